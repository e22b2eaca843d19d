#include "distributed/data_parallel.h"

#include <torch/csrc/autograd/utils/lambda_post_hook.h>
#include <torch/torch.h>

#include <mutex>

#include "core/error.h"

namespace stratum::distributed {

void broadcast_module(Collectives& collectives, torch::nn::Module& model, bool parameters) {
  torch::NoGradGuard no_grad;
  for (torch::Tensor t : parameters ? model.parameters() : std::vector<torch::Tensor>{}) {
    torch::Tensor data = t.data();
    collectives.broadcast(data, 0);
  }
  for (torch::Tensor t : model.buffers()) {
    if (t.defined()) collectives.broadcast(t, 0);
  }
}

struct BucketedGradientSync::State {
  struct Bucket {
    std::vector<size_t> members;  // indices into params, in bucket order
    std::vector<int64_t> offsets;  // each member's first element in `flat`
    torch::Tensor flat;
    size_t waiting = 0;  // members whose gradient is not ready yet
    bool started = false;
    bool late = false;   // a member's gradient changed after the bucket started
    std::unique_ptr<PendingCollective> work;
  };

  Collectives& collectives;
  torch::nn::Module& model;
  std::vector<torch::Tensor> params;
  std::vector<size_t> bucket_of;  // param index -> bucket
  std::vector<Bucket> buckets;
  std::vector<bool> ready;
  size_t next = 0;  // the next bucket to start: buckets start in order on every rank
  bool sync = true;
  int64_t started_in_backward = 0;       // in the pass under way
  int64_t last_started_in_backward = 0;  // in the last finished synchronised pass
  std::mutex mutex;
  // Each parameter's gradient accumulator and the key of our hook on it. The accumulators are
  // held here because a parameter refers to its own only weakly.
  std::vector<std::pair<std::shared_ptr<torch::autograd::Node>, uintptr_t>> hooks;

  State(Collectives& c, torch::nn::Module& m) : collectives(c), model(m) {}

  void start(size_t b, bool from_hook) {
    Bucket& bucket = buckets[b];
    {
      torch::NoGradGuard no_grad;
      for (size_t k = 0; k < bucket.members.size(); ++k) {
        const torch::Tensor& p = params[bucket.members[k]];
        torch::Tensor slice = bucket.flat.narrow(0, bucket.offsets[k], p.numel());
        // A parameter this rank's backward did not reach contributes zeros.
        if (p.grad().defined()) {
          slice.copy_(p.grad().reshape({-1}));
        } else {
          slice.zero_();
        }
      }
    }
    bucket.work = collectives.all_reduce_sum_async(bucket.flat);
    bucket.started = true;
    if (from_hook) ++started_in_backward;
  }

  void mark_ready(size_t index) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!sync) return;
    Bucket& bucket = buckets[bucket_of[index]];
    if (bucket.started) {
      bucket.late = true;  // accumulated again (a parameter used by several graphs): redo it in finish()
      return;
    }
    if (ready[index]) return;
    ready[index] = true;
    --bucket.waiting;
    while (next < buckets.size() && buckets[next].waiting == 0) start(next++, /*from_hook=*/true);
  }
};

BucketedGradientSync::BucketedGradientSync(Collectives& collectives, torch::nn::Module& model, int64_t bucket_bytes)
    : state_(std::make_unique<State>(collectives, model)) {
  STRATUM_CHECK(bucket_bytes > 0, "gradient buckets need a positive size");
  State& s = *state_;
  for (const torch::Tensor& p : model.parameters()) {
    if (p.requires_grad()) s.params.push_back(p);
  }
  s.bucket_of.resize(s.params.size());
  s.ready.assign(s.params.size(), false);
  // Reverse registration order approximates the order in which backward finishes gradients.
  for (size_t i = s.params.size(); i-- > 0;) {
    const torch::Tensor& p = s.params[i];
    const bool fits = !s.buckets.empty() && s.buckets.back().flat.scalar_type() == p.scalar_type() &&
                      s.buckets.back().flat.device() == p.device() &&
                      (s.buckets.back().flat.numel() + p.numel()) * static_cast<int64_t>(p.element_size()) <= bucket_bytes;
    if (!fits) {
      s.buckets.emplace_back();
      s.buckets.back().flat = torch::empty({0}, p.options().requires_grad(false));
    }
    State::Bucket& bucket = s.buckets.back();
    bucket.members.push_back(i);
    bucket.offsets.push_back(bucket.flat.numel());
    bucket.flat = torch::empty({bucket.flat.numel() + p.numel()}, bucket.flat.options());
    s.bucket_of[i] = s.buckets.size() - 1;
  }
  for (auto& bucket : s.buckets) bucket.waiting = bucket.members.size();
  for (size_t i = 0; i < s.params.size(); ++i) {
    std::shared_ptr<torch::autograd::Node> accumulator = torch::autograd::impl::grad_accumulator(s.params[i]);
    STRATUM_CHECK(accumulator != nullptr, "a trainable parameter has no gradient accumulator");
    State* raw = state_.get();
    const uintptr_t key = accumulator->add_post_hook(std::make_unique<torch::autograd::utils::LambdaPostHook>(
        [raw, i](const torch::autograd::variable_list& outputs, const torch::autograd::variable_list&) {
          raw->mark_ready(i);
          return outputs;
        }));
    s.hooks.emplace_back(std::move(accumulator), key);
  }
}

BucketedGradientSync::~BucketedGradientSync() {
  for (auto& [accumulator, key] : state_->hooks) accumulator->del_post_hook(key);
}

void BucketedGradientSync::set_sync(bool sync) {
  std::lock_guard<std::mutex> lock(state_->mutex);
  state_->sync = sync;
}

void BucketedGradientSync::finish() {
  State& s = *state_;
  std::lock_guard<std::mutex> lock(s.mutex);
  if (!s.sync) return;
  // Buckets with a parameter backward never reached start now, still in order.
  while (s.next < s.buckets.size()) s.start(s.next++, /*from_hook=*/false);
  for (auto& bucket : s.buckets) bucket.work->wait();
  for (size_t b = 0; b < s.buckets.size(); ++b) {
    if (!s.buckets[b].late) continue;
    s.start(b, false);
    s.buckets[b].work->wait();
  }
  const double world = static_cast<double>(s.collectives.world_size());
  torch::NoGradGuard no_grad;
  for (auto& bucket : s.buckets) {
    bucket.flat.div_(world);
    for (size_t k = 0; k < bucket.members.size(); ++k) {
      torch::Tensor& p = s.params[bucket.members[k]];
      const torch::Tensor average = bucket.flat.narrow(0, bucket.offsets[k], p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(average);
      } else {
        p.mutable_grad() = average.clone();
      }
    }
    bucket.work.reset();
    bucket.started = bucket.late = false;
    bucket.waiting = bucket.members.size();
  }
  s.last_started_in_backward = s.started_in_backward;
  s.started_in_backward = 0;
  s.ready.assign(s.params.size(), false);
  s.next = 0;
}

void BucketedGradientSync::share_buffers() { broadcast_module(state_->collectives, state_->model, /*parameters=*/false); }

int64_t BucketedGradientSync::buckets_started_in_backward() const { return state_->last_started_in_backward; }

std::vector<int64_t> BucketedGradientSync::bucket_sizes() const {
  std::vector<int64_t> sizes;
  for (const auto& bucket : state_->buckets) sizes.push_back(static_cast<int64_t>(bucket.members.size()));
  return sizes;
}

}  // namespace stratum::distributed
