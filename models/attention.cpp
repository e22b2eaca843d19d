#include "models/attention.h"

#include <torch/torch.h>

#include <cmath>

#include "core/torch_compat.h"

namespace stratum::models {

torch::Tensor attention_math(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                             const torch::Tensor& mask, double dropout_p, bool training) {
  torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (mask.defined()) scores = scores.masked_fill(mask.logical_not(), -std::numeric_limits<float>::infinity());
  torch::Tensor weights = torch::softmax(scores, -1);
  if (dropout_p > 0 && training) weights = torch::dropout(weights, dropout_p, true);
  return torch::matmul(weights, v);
}

torch::Tensor apply_rotary(const torch::Tensor& x) {
  const int64_t length = x.size(-2), dim = x.size(-1), half = dim / 2;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
  const torch::Tensor inverse_frequency = torch::pow(10000.0, -torch::arange(0, half, options) / half);
  const torch::Tensor angles = torch::outer(torch::arange(length, options), inverse_frequency);  // (T, D/2)
  const torch::Tensor both = torch::cat({angles, angles}, -1);
  const torch::Tensor cos = both.cos().to(x.scalar_type()), sin = both.sin().to(x.scalar_type());
  const torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

MultiHeadAttention::MultiHeadAttention(const TransformerShape& shape, bool causal)
    : heads_(shape.heads),
      head_dim_(shape.width / shape.heads),
      causal_(causal),
      rotary_(shape.positions == Positions::rotary),
      dropout_(shape.dropout),
      use_fused_(compat::has_fused_attention()) {
  qkv = register_module("qkv", AdaptableLinear(shape.width, 3 * shape.width));
  proj = register_module("proj", AdaptableLinear(shape.width, shape.width));
}

void MultiHeadAttention::split_heads(int64_t local_heads, std::shared_ptr<TensorParallelOps> ops, int64_t stream) {
  heads_ = local_heads;
  split_ops_ = std::move(ops);
  split_stream_ = stream;
}

void MultiHeadAttention::set_prefix(std::shared_ptr<AttentionPrefix> prefix) {
  if (prefix_) unregister_module("prefix");
  prefix_ = std::move(prefix);
  if (prefix_) register_module("prefix", prefix_);
}

torch::Tensor MultiHeadAttention::forward(const torch::Tensor& x, const torch::Tensor& keep) {
  const int64_t batch = x.size(0), length = x.size(1), dim = head_dim_;
  // (B, T, 3W) -> three (B, H, T, D)
  const std::vector<torch::Tensor> parts = qkv->forward(x).view({batch, length, 3, heads_, dim}).permute({2, 0, 3, 1, 4}).unbind(0);
  torch::Tensor q = parts[0], k = parts[1], v = parts[2];
  if (rotary_) {
    q = apply_rotary(q);
    k = apply_rotary(k);
  }
  int64_t prefix_length = 0;
  if (prefix_) {
    auto [prefix_keys, prefix_values] = prefix_->keys_values(batch);
    prefix_length = prefix_keys.size(2);
    k = torch::cat({prefix_keys.to(k.scalar_type()), k}, 2);
    v = torch::cat({prefix_values.to(v.scalar_type()), v}, 2);
  }

  // One boolean (B|1, 1, T, P+T) mask, unless plain causal attention lets the kernel mask itself.
  torch::Tensor mask;
  const bool kernel_causal = use_fused_ && causal_ && prefix_length == 0 && !keep.defined();
  if (causal_ && !kernel_causal) {
    const auto options = torch::TensorOptions().dtype(torch::kLong).device(x.device());
    const torch::Tensor query = torch::arange(length, options).unsqueeze(1);
    const torch::Tensor key = torch::arange(prefix_length + length, options).unsqueeze(0) - prefix_length;
    mask = (key <= query).view({1, 1, length, prefix_length + length});
  }
  if (keep.defined()) {
    torch::Tensor keys = keep.to(torch::kBool);
    // A sequence with no real token still attends to its first position, so no row is all -inf.
    const torch::Tensor first = keys.select(1, 0).logical_or(keys.any(1).logical_not());
    keys = torch::cat({first.unsqueeze(1), keys.narrow(1, 1, length - 1)}, 1);
    if (prefix_length > 0) keys = torch::cat({torch::ones({batch, prefix_length}, keys.options()), keys}, 1);
    keys = keys.view({batch, 1, 1, prefix_length + length});
    mask = mask.defined() ? mask.logical_and(keys) : keys;
  }

  const double dropout = is_training() ? dropout_ : 0.0;
  const auto attend = [&] {
    return use_fused_ ? compat::fused_attention(q, k, v, mask, dropout, kernel_causal)
                      : attention_math(q, k, v, mask, dropout, is_training());
  };
  // Split heads hold different activations on each rank: their dropout masks must differ.
  const torch::Tensor out =
      split_ops_ && dropout > 0 ? split_ops_->with_rank_random(x.device(), split_stream_, attend) : attend();
  return proj->forward(out.transpose(1, 2).reshape({batch, length, heads_ * dim}));
}

}  // namespace stratum::models
