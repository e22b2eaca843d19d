#include "models/attention.h"

#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
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

torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& positions) {
  const int64_t length = x.size(-2), dim = x.size(-1), half = dim / 2;
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(x.device());
  const torch::Tensor inverse_frequency = torch::pow(10000.0, -torch::arange(0, half, options) / half);
  const torch::Tensor angles =
      positions.defined()
          ? (positions.to(options).unsqueeze(-1) * inverse_frequency).unsqueeze(1)  // (B, 1, T, D/2)
          : torch::outer(torch::arange(length, options), inverse_frequency);         // (T, D/2)
  const torch::Tensor both = torch::cat({angles, angles}, -1);
  const torch::Tensor cos = both.cos().to(x.scalar_type()), sin = both.sin().to(x.scalar_type());
  const torch::Tensor rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

torch::Tensor segment_positions(const torch::Tensor& segments) {
  const int64_t length = segments.size(1);
  const torch::Tensor index = torch::arange(length, segments.options()).expand_as(segments);
  // A document starts where the number changes; each token's start is the latest one so far.
  const torch::Tensor starts = torch::cat({torch::ones_like(segments.narrow(1, 0, 1), torch::kBool),
                                           segments.narrow(1, 1, length - 1).ne(segments.narrow(1, 0, length - 1))},
                                          1);
  return index - std::get<0>(torch::cummax(index * starts.to(index.scalar_type()), 1));
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

std::vector<torch::Tensor> MultiHeadAttention::project_heads(const torch::Tensor& x, const torch::Tensor& positions) {
  // (B, T, 3W) -> three (B, H, T, D)
  std::vector<torch::Tensor> qkv_heads =
      qkv->forward(x).view({x.size(0), x.size(1), 3, heads_, head_dim_}).permute({2, 0, 3, 1, 4}).unbind(0);
  if (rotary_) {
    qkv_heads[0] = apply_rotary(qkv_heads[0], positions);
    qkv_heads[1] = apply_rotary(qkv_heads[1], positions);
  }
  return qkv_heads;
}

int64_t MultiHeadAttention::prepend_prefix(torch::Tensor& k, torch::Tensor& v) {
  if (!prefix_) return 0;
  auto [prefix_keys, prefix_values] = prefix_->keys_values(k.size(0));  // (B, H, P, D) each
  k = torch::cat({prefix_keys.to(k.scalar_type()), k}, 2);
  v = torch::cat({prefix_values.to(v.scalar_type()), v}, 2);  // k, v: (B, H, P + S, D)
  return prefix_keys.size(2);
}

torch::Tensor MultiHeadAttention::merge_heads(const torch::Tensor& out) {
  // (B, H, T, D) -> (B, T, H·D) -> (B, T, W)
  return proj->forward(out.transpose(1, 2).reshape({out.size(0), out.size(2), heads_ * head_dim_}));
}

torch::Tensor MultiHeadAttention::forward(const torch::Tensor& x, const torch::Tensor& keep, const torch::Tensor& segments) {
  const int64_t batch = x.size(0), length = x.size(1);
  const std::vector<torch::Tensor> parts = project_heads(x, segments.defined() ? segment_positions(segments) : torch::Tensor());
  torch::Tensor q = parts[0], k = parts[1], v = parts[2];
  const int64_t prefix_length = prepend_prefix(k, v);

  // One boolean (B|1, 1, T, P+T) mask, unless plain causal attention lets the kernel mask itself.
  torch::Tensor mask;
  const bool kernel_causal = use_fused_ && causal_ && prefix_length == 0 && !keep.defined() && !segments.defined();
  if (causal_ && !kernel_causal) {
    const auto options = torch::TensorOptions().dtype(torch::kLong).device(x.device());
    const torch::Tensor query = torch::arange(length, options).unsqueeze(1);
    const torch::Tensor key = torch::arange(prefix_length + length, options).unsqueeze(0) - prefix_length;
    mask = (key <= query).view({1, 1, length, prefix_length + length});
  }
  if (segments.defined()) {
    // Block-diagonal: a query sees keys of its own document only (prefix positions: all).
    torch::Tensor same = segments.unsqueeze(2).eq(segments.unsqueeze(1));  // (B, T, T)
    if (prefix_length > 0) same = torch::cat({torch::ones({batch, length, prefix_length}, same.options()), same}, 2);
    same = same.unsqueeze(1);  // (B, 1, T, P+T)
    mask = mask.defined() ? mask.logical_and(same) : same;
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
  const torch::Tensor out =  // (B, H, T, D)
      split_ops_ && dropout > 0 ? split_ops_->with_rank_random(x.device(), split_stream_, attend) : attend();
  return merge_heads(out);
}

torch::Tensor MultiHeadAttention::forward_cached(const torch::Tensor& x, const torch::Tensor& positions,
                                                const torch::Tensor& key_keep, KeyValueCache::Layer& cache) {
  STRATUM_CHECK(causal_, "only causal attention decodes");
  STRATUM_CHECK(!split_ops_, "a tensor-parallel split model does not decode");
  const int64_t batch = x.size(0), length = x.size(1);
  const std::vector<torch::Tensor> parts = project_heads(x, positions);
  torch::Tensor q = parts[0], k = parts[1], v = parts[2];  // (B, H, T, D)
  if (cache.keys.defined()) {
    k = torch::cat({cache.keys, k}, 2);  // (B, H, S+T, D)
    v = torch::cat({cache.values, v}, 2);
  }
  cache.keys = k;
  cache.values = v;
  const int64_t total = k.size(2), past = total - length;
  STRATUM_CHECK(key_keep.size(0) == batch && key_keep.size(1) == total, "key_keep covers the cached and new positions");

  // (B, 1, T, S+T): key j is visible to new token i when j ≤ past + i and j is a real token;
  // a token always sees itself, so no row of a padding position is empty.
  const auto options = torch::TensorOptions().dtype(torch::kLong).device(x.device());
  const torch::Tensor query = torch::arange(past, total, options).view({1, 1, length, 1});
  const torch::Tensor key = torch::arange(total, options).view({1, 1, 1, total});
  torch::Tensor mask = key.le(query).logical_and(key_keep.to(torch::kBool).view({batch, 1, 1, total})).logical_or(key.eq(query));
  if (const int64_t prefix_length = prepend_prefix(k, v); prefix_length > 0) {  // prefix positions: always visible
    mask = torch::cat({torch::ones({batch, 1, length, prefix_length}, mask.options()), mask.expand({batch, 1, length, total})}, 3);
  }
  const torch::Tensor out = use_fused_ ? compat::fused_attention(q, k, v, mask, 0.0, false)
                                       : attention_math(q, k, v, mask, 0.0, false);  // (B, H, T, D)
  return merge_heads(out);
}

}  // namespace stratum::models
