#include "distributed/tensor_parallel.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>
#include <sstream>
#include <type_traits>
#include <unordered_set>

#include "core/error.h"
#include "models/next_token_loss.h"
#include "core/random_state.h"
#include "core/safetensors.h"
#include "models/adaptable_linear.h"
#include "models/model.h"

namespace stratum::distributed {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The group travels through autograd as an integer; it outlives every graph.
int64_t handle_of(Collectives& group) { return static_cast<int64_t>(reinterpret_cast<intptr_t>(&group)); }
Collectives& from_handle(int64_t handle) { return *reinterpret_cast<Collectives*>(static_cast<intptr_t>(handle)); }

// f: identity forward; backward, the sum of the ranks' gradient shares.
struct CopyToGroup : public torch::autograd::Function<CopyToGroup> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    ctx->saved_data["group"] = group;
    return x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    // A copy: autograd may hand the same gradient tensor to several inputs.
    torch::Tensor sum = grads[0].clone(at::MemoryFormat::Contiguous);
    from_handle(ctx->saved_data["group"].toInt()).all_reduce_sum(sum);
    return {sum, torch::Tensor()};
  }
};

// g: the sum over the ranks forward; backward, every rank's gradient is the sum's.
struct ReduceFromGroup : public torch::autograd::Function<ReduceFromGroup> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, int64_t group) {
    (void)ctx;
    torch::Tensor sum = x.clone(at::MemoryFormat::Contiguous);
    from_handle(group).all_reduce_sum(sum);
    return sum;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    (void)ctx;
    return {grads[0], torch::Tensor()};
  }
};

class GroupOps : public models::TensorParallelOps {
 public:
  explicit GroupOps(Collectives& group) : group_(group) {}
  int rank() const override { return group_.rank(); }
  int size() const override { return group_.world_size(); }

  torch::Tensor copy_to_group(const torch::Tensor& x) override { return CopyToGroup::apply(x, handle_of(group_)); }
  torch::Tensor reduce_from_group(const torch::Tensor& x) override {
    return ReduceFromGroup::apply(x, handle_of(group_));
  }

  torch::Tensor max_over_group(const torch::Tensor& x) override {
    torch::NoGradGuard no_grad;
    torch::Tensor out = x.detach().clone(at::MemoryFormat::Contiguous);
    group_.all_reduce_max(out);
    return out;
  }

  torch::Tensor gather_last_dim(const torch::Tensor& x, const std::vector<int64_t>& sizes) override {
    torch::NoGradGuard no_grad;
    ShardLayout layout;
    layout.dim = x.dim() - 1;
    layout.sizes = sizes;
    return layout.gather(group_, x.detach());
  }

  torch::Tensor with_rank_random(const torch::Device& device, int64_t stream,
                                 const std::function<torch::Tensor()>& f) override {
    at::Generator generator = default_generator(device);
    const torch::Tensor shared = generator_state(generator);
    // FNV-1a over the shared state, the stream and the rank: the same on a replay, different
    // between ranks, layers and steps.
    uint64_t seed = 1469598103934665603ULL;
    const auto mix = [&seed](uint64_t byte) { seed = (seed ^ byte) * 1099511628211ULL; };
    const torch::Tensor bytes = shared.contiguous();
    const uint8_t* data = bytes.data_ptr<uint8_t>();
    for (int64_t i = 0; i < bytes.numel(); ++i) mix(data[i]);
    for (int shift = 0; shift < 64; shift += 8) mix((static_cast<uint64_t>(stream) >> shift) & 0xff);
    mix(static_cast<uint64_t>(rank()) + 1);
    seed_generator(generator, seed);
    torch::Tensor out;
    try {
      out = f();
    } catch (...) {
      set_generator_state(generator, shared);
      throw;
    }
    set_generator_state(generator, shared);
    return out;
  }

 private:
  Collectives& group_;
};

// The optimizer's state for `parameter`, keyed as this LibTorch keys it (1.x: the address as
// text, 2.x: the address).
template <class Map>
typename Map::iterator find_state(Map& states, const at::Tensor& parameter) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << parameter.unsafeGetTensorImpl();
    return states.find(key.str());
  } else {
    return states.find(parameter.unsafeGetTensorImpl());
  }
}

// Every tensor of `parameter`'s optimizer state shaped like the parameter (moment estimates,
// momentum); none before the first step.
std::vector<torch::Tensor*> state_tensors(torch::optim::Optimizer& optimizer, const at::Tensor& parameter) {
  auto& states = optimizer.state();
  const auto it = find_state(states, parameter);
  if (it == states.end()) return {};
  std::vector<torch::Tensor*> out;
  const auto add = [&out](torch::Tensor& t) {
    if (t.defined()) out.push_back(&t);
  };
  if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(it->second.get())) {
    add(adamw->exp_avg()), add(adamw->exp_avg_sq()), add(adamw->max_exp_avg_sq());
  } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(it->second.get())) {
    add(adam->exp_avg()), add(adam->exp_avg_sq()), add(adam->max_exp_avg_sq());
  } else if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(it->second.get())) {
    add(sgd->momentum_buffer());
  } else {
    STRATUM_CHECK(false, "tensor parallelism knows the state of SGD, Adam and AdamW only");
  }
  return out;
}

}  // namespace

int64_t ShardLayout::start(int rank) const { return std::accumulate(sizes.begin(), sizes.begin() + rank, int64_t{0}); }

int64_t ShardLayout::whole_size() const { return blocks * std::accumulate(sizes.begin(), sizes.end(), int64_t{0}); }

std::vector<int64_t> even_split(int64_t total, int parts) {
  std::vector<int64_t> sizes(static_cast<size_t>(parts), total / parts);
  for (int64_t r = 0; r < total % parts; ++r) ++sizes[static_cast<size_t>(r)];
  return sizes;
}

at::Tensor ShardLayout::take(const at::Tensor& whole, int rank) const {
  const int64_t block = whole.size(dim) / blocks;
  const int64_t offset = start(rank);
  std::vector<torch::Tensor> parts;
  for (int64_t b = 0; b < blocks; ++b) parts.push_back(whole.narrow(dim, b * block + offset, sizes[static_cast<size_t>(rank)]));
  return torch::cat(parts, dim);  // a tensor of its own, not a view of `whole`
}

at::Tensor ShardLayout::gather(Collectives& group, const at::Tensor& local) const {
  const int rank = group.rank();
  const int64_t mine = sizes[static_cast<size_t>(rank)];
  const int64_t block = whole_size() / blocks;
  const int64_t offset = start(rank);
  std::vector<int64_t> shape = local.sizes().vec();
  shape[static_cast<size_t>(dim)] = whole_size();
  torch::Tensor whole = torch::zeros(shape, local.options());
  for (int64_t b = 0; b < blocks; ++b) whole.narrow(dim, b * block + offset, mine).copy_(local.narrow(dim, b * mine, mine));
  group.all_reduce_sum(whole);
  return whole;
}

std::shared_ptr<models::TensorParallelOps> tensor_parallel_ops(Collectives& group) {
  return std::make_shared<GroupOps>(group);
}

TensorParallel::TensorParallel(Collectives& group) : group_(group), ops_(tensor_parallel_ops(group)) {}

void TensorParallel::cut(const std::string& name, at::Tensor& parameter, ShardLayout layout) {
  torch::NoGradGuard no_grad;
  parameter.set_data(layout.take(parameter.data(), group_.rank()));
  split_impls_.insert(parameter.unsafeGetTensorImpl());
  splits_.push_back({name, parameter, std::move(layout)});
}

std::string TensorParallel::split(models::Model& model) {
  STRATUM_CHECK(splits_.empty(), "one TensorParallel splits one model");
  const int degree = group_.world_size();
  const std::string setting = "distributed.tensor_parallel: " + std::to_string(degree);
  const models::TensorParallelPlan plan = model.tensor_parallel_plan();
  if (plan.groups.empty()) {
    throw UserError(setting + ": the model has no transformer blocks to split (tensor parallelism splits gpt-*, "
                    "text-classifier and vit-* models, and plugin models that declare a tensor_parallel_plan)");
  }
  const auto by = [&](int64_t dim, int64_t blocks, int64_t whole) {
    STRATUM_CHECK(whole % (blocks * degree) == 0, "split sizes are checked before cutting");
    return ShardLayout{dim, blocks, std::vector<int64_t>(static_cast<size_t>(degree), whole / blocks / degree)};
  };
  // A linear layer split by output columns (qkv: three blocks) or input rows; its LoRA
  // matrices follow (column: B's rows; row: A's columns); the other parts stay whole.
  int64_t stream = 0;
  const auto split_linear = [&](const models::LinearShardPlan& shard) {
    models::AdaptableLinearImpl& layer = *shard.layer;
    const bool column = shard.kind == models::LinearSplit::Kind::column;
    STRATUM_CHECK(!layer.packed_weight(), "preflight refuses quantized weights with tensor parallelism");
    const int64_t dim = column ? 0 : 1;
    const ShardLayout layout = by(dim, shard.blocks, layer.weight.size(dim));
    cut(shard.name + ".weight", layer.weight, layout);
    if (column && layer.bias.defined()) cut(shard.name + ".bias", layer.bias, by(0, shard.blocks, layer.bias.size(0)));
    if (layer.adapter()) {
      // An adapter's (out, r) matrix follows a column split, its (r, in) matrix a row split
      // (LoRA's B and A); the other stays whole on every rank.
      const int64_t whole = layer.weight.size(dim) * degree;
      for (auto& item : layer.named_parameters()) {
        torch::Tensor& p = item.value();
        if (item.key() == "weight" || item.key() == "bias") continue;
        if (p.dim() == 2 && p.size(dim) == whole && p.size(1 - dim) != whole) {
          cut(shard.name + "." + item.key(), p, by(dim, shard.blocks, whole));
        }
      }
    }
    models::LinearSplit split;
    split.kind = shard.kind;
    split.ops = ops_;
    split.stream = ++stream;
    layer.set_split(std::move(split));
  };

  for (const models::ShardGroupPlan& group : plan.groups) {
    if (!group.refusal.empty()) throw UserError(setting + ": " + group.refusal);
    if (group.units % degree != 0) {
      throw UserError(setting + ": " + group.units_owner + " " + std::to_string(group.units) + " " + group.units_name +
                      " do not split evenly over " + std::to_string(degree) + " ranks");
    }
    for (const models::LinearShardPlan& shard : group.linears) split_linear(shard);
    if (group.after_split) group.after_split(group.units / degree, ops_, ++stream);
  }
  std::string vocabulary;
  for (const models::VocabularyShardPlan& shard : plan.vocabulary) {
    STRATUM_CHECK(!vocabulary_split_, "a plan splits one vocabulary");
    torch::Tensor weight = shard.weight;  // the same parameter: cut() replaces its data in place
    const int64_t vocab = weight.size(0);
    ShardLayout layout{0, 1, even_split(vocab, degree)};
    cut(shard.name, weight, layout);
    vocabulary_split_ = true;
    vocab_start_ = layout.start(group_.rank());
    if (shard.after_split) shard.after_split(ops_, layout.sizes);
    vocabulary = ", vocabulary " + std::to_string(vocab_start_) + "-" +
                 std::to_string(vocab_start_ + layout.sizes[static_cast<size_t>(group_.rank())] - 1) + " of " +
                 std::to_string(vocab);
  }
  int64_t local = 0;
  for (const auto& s : splits_) local += s.parameter.numel();
  return "tensor parallel rank " + std::to_string(group_.rank()) + " of " + std::to_string(degree) + ": " +
         plan.description + " split" + vocabulary + "; " + std::to_string(splits_.size()) + " split tensors, " +
         std::to_string(local) + " of their values here";
}

at::Tensor TensorParallel::next_token_loss(const at::Tensor& logits, const at::Tensor& tokens, int64_t pad_token) {
  if (!vocabulary_split_) return stratum::next_token_loss(logits, tokens, pad_token);
  return vocab_parallel_next_token_loss(logits, tokens, pad_token, vocab_start_, *ops_);
}

double TensorParallel::clip_gradient_norm(torch::nn::Module& model, double max_norm) {
  std::vector<torch::Tensor> split_squares, whole_squares, grads;
  for (const auto& p : model.parameters()) {
    if (!p.grad().defined()) continue;
    grads.push_back(p.grad());
    torch::Tensor square = p.grad().detach().to(torch::kFloat64).pow(2).sum();
    (split_impls_.count(p.unsafeGetTensorImpl()) ? split_squares : whole_squares).push_back(square);
  }
  if (grads.empty()) return 0;
  const auto options = torch::TensorOptions().dtype(torch::kFloat64).device(grads.front().device());
  // Every rank joins the all-reduce, also one whose split parameters got no gradient.
  torch::Tensor split_total = split_squares.empty() ? torch::zeros({1}, options) : torch::stack(split_squares).sum().view({1});
  group_.all_reduce_sum(split_total);
  torch::Tensor total = split_total.sum();
  if (!whole_squares.empty()) total = total + torch::stack(whole_squares).sum();
  const double norm = std::sqrt(total.item<double>());
  const double coefficient = max_norm / (norm + 1e-6);  // as torch::nn::utils::clip_grad_norm_
  if (coefficient < 1) {
    torch::NoGradGuard no_grad;
    for (auto& g : grads) g.mul_(coefficient);
  }
  return norm;
}

void TensorParallel::gather_whole(torch::optim::Optimizer* optimizer) {
  STRATUM_CHECK(held_.empty(), "gather_whole twice without restore_split");
  torch::NoGradGuard no_grad;
  held_optimizer_ = optimizer;
  for (auto& s : splits_) {
    held_.push_back(s.parameter.data());
    s.parameter.set_data(s.layout.gather(group_, s.parameter.data()));
    if (!optimizer) continue;
    for (torch::Tensor* state : state_tensors(*optimizer, s.parameter)) {
      held_.push_back(*state);
      *state = s.layout.gather(group_, *state);
    }
  }
}

void TensorParallel::restore_split() {
  size_t next = 0;
  for (auto& s : splits_) {
    s.parameter.set_data(held_.at(next++));
    if (!held_optimizer_) continue;
    for (torch::Tensor* state : state_tensors(*held_optimizer_, s.parameter)) *state = held_.at(next++);
  }
  held_.clear();
  held_optimizer_ = nullptr;
}

void TensorParallel::split_optimizer_state(torch::optim::Optimizer& optimizer) {
  for (auto& s : splits_) {
    for (torch::Tensor* state : state_tensors(optimizer, s.parameter)) {
      if (state->size(s.layout.dim) != s.layout.whole_size()) {
        throw UserError("resume: the optimizer state of " + s.name + " has shape " + shape_text(state->sizes()) +
                        ", not the whole parameter's");
      }
      *state = s.layout.take(*state, group_.rank());
    }
  }
}

std::vector<at::Tensor> TensorParallel::unsplit_parameters(const torch::nn::Module& model) const {
  std::vector<at::Tensor> out;
  for (const torch::Tensor& p : model.parameters()) {
    if (!split_impls_.count(p.unsafeGetTensorImpl())) out.push_back(p);
  }
  return out;
}

}  // namespace stratum::distributed
