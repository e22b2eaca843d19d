// The NCCL path on one GPU, which no CPU machine can run (scripts/device_check.sh runs it): a
// one-rank NCCL process group and a subgroup of it, their collectives on CUDA tensors, bucketed
// gradient averaging, and a tensor-parallel GPT (one part) whose attention dropout draws from
// the CUDA generator. Prints one line per check; exit 1 when one fails, 2 without a GPU.

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "models/next_token_loss.h"
#include "core/torch_compat.h"
#include "distributed/process_group.h"
#include "distributed/tensor_parallel.h"
#include "models/gpt.h"
#include "support/free_port.h"

namespace {

int failures = 0, checks = 0;

void check(bool ok, const std::string& what) {
  ++checks;
  if (!ok) ++failures;
  std::printf("%s %s\n", ok ? "ok  " : "FAIL", what.c_str());
  std::fflush(stdout);
}

std::shared_ptr<stratum::models::GPT> tiny_gpt(double dropout) {
  torch::manual_seed(5);
  stratum::models::TransformerShape shape = stratum::models::gpt_preset("tiny");
  shape.width = 64, shape.heads = 4, shape.mlp_hidden = 128, shape.vocab_size = 50, shape.context = 16;
  shape.dropout = dropout;
  auto model = std::make_shared<stratum::models::GPT>(shape);
  model->to(torch::kCUDA);
  return model;
}

void run() {
  using namespace stratum;
  distributed::WorldInfo world;
  world.master_port = testing::free_port();
  distributed::ProcessGroupOptions options;
  options.backend = distributed::Backend::nccl;
  options.cuda = true;
  options.init_timeout_s = options.collective_timeout_s = 60;
  const auto group = distributed::ProcessGroup::connect(world, options);
  check(group->backend() == "nccl", "process group backend: " + group->backend());

  const auto cuda = torch::TensorOptions().device(torch::kCUDA);
  torch::Tensor sum = torch::arange(8, cuda.dtype(torch::kFloat32));
  group->all_reduce_sum(sum);
  torch::Tensor largest = torch::full({4}, 3.0, cuda);
  group->all_reduce_max(largest);
  torch::Tensor pending = torch::ones({1 << 20}, cuda);
  group->all_reduce_sum_async(pending)->wait();
  group->broadcast(largest, 0);
  check(sum.equal(torch::arange(8, cuda.dtype(torch::kFloat32))) && largest.eq(3).all().item<bool>() &&
            pending.eq(1).all().item<bool>(),
        "all-reduce (sum, max, async 4 MB) and broadcast of CUDA tensors");
  // The trainer's counters, flags and checksums are host tensors.
  torch::Tensor host = torch::tensor({1.5, 2.0}, torch::kFloat64);
  group->all_reduce_sum(host);
  torch::Tensor host_pending = torch::tensor({7}, torch::kInt64);
  group->all_reduce_sum_async(host_pending)->wait();
  check(host.equal(torch::tensor({1.5, 2.0}, torch::kFloat64)) && !host.is_cuda() && host_pending.item<int64_t>() == 7,
        "host tensors staged through the GPU (blocking and async)");
  const auto part = group->subgroup("tensor-0", {0});
  torch::Tensor in_part = torch::full({3}, 2.0, cuda);
  part->all_reduce_sum(in_part);
  check(in_part.eq(2).all().item<bool>() && part->world_size() == 1, "a subgroup's NCCL communicator");

  torch::nn::Linear layer(16, 8);
  layer->to(torch::kCUDA);
  const auto sync = group->data_parallel(*layer, 1 << 20);
  layer->forward(torch::randn({4, 16}, cuda)).pow(2).sum().backward();
  const torch::Tensor local = layer->weight.grad().clone();
  sync->finish();
  check(torch::allclose(layer->weight.grad(), local), "bucketed gradient all-reduce finishes (one rank: unchanged)");

  // One part of a tensor-parallel model: the split machinery on CUDA, and the rank-local
  // dropout leaving the CUDA generator's shared stream where it was.
  auto reference = tiny_gpt(0.0), split_model = tiny_gpt(0.0);
  distributed::TensorParallel split(*part);
  split.split(*split_model);
  data::Batch batch;
  batch.inputs = torch::randint(1, 50, {4, 16}, cuda.dtype(torch::kInt64));
  reference->eval(), split_model->eval();
  check(torch::allclose(reference->forward(batch), split_model->forward(batch), 1e-5, 1e-5),
        "split GPT logits equal the whole model's on the GPU");
  auto dropping = tiny_gpt(0.1);
  distributed::TensorParallel dropping_split(*part);
  dropping_split.split(*dropping);
  const torch::Tensor before = at::globalContext().defaultGenerator(torch::Device(torch::kCUDA)).get_state();
  const auto ops = distributed::tensor_parallel_ops(*part);
  const torch::Tensor drawn = ops->with_rank_random(torch::Device(torch::kCUDA), 3, [&] {
    return torch::dropout(torch::ones({1000}, cuda), 0.5, true);
  });
  const torch::Tensor after = at::globalContext().defaultGenerator(torch::Device(torch::kCUDA)).get_state();
  check(before.equal(after) && drawn.eq(0).any().item<bool>(), "rank-local dropout restores the CUDA generator");
  dropping->train();
  torch::Tensor loss;
  {
    const compat::AutocastScope autocast(/*cuda=*/true, /*half=*/false);
    loss = dropping_split.next_token_loss(dropping->forward(batch).to(torch::kFloat32), batch.inputs, -1);
  }
  loss.backward();
  const double norm = dropping_split.clip_gradient_norm(*dropping, 1.0);
  check(std::isfinite(loss.item<double>()) && std::isfinite(norm) && norm > 0,
        "bf16 training step of a split GPT with dropout: loss " + std::to_string(loss.item<double>()) +
            ", gradient norm " + std::to_string(norm));
  torch::optim::AdamW optimizer(dropping->parameters(), torch::optim::AdamWOptions(1e-3));
  optimizer.step();
  dropping_split.gather_whole(&optimizer);
  dropping_split.restore_split();
  check(true, "whole-layout gather of parameters and AdamW state on the GPU");
}

}  // namespace

int main() {
  if (!stratum::compat::cuda_available()) {
    std::fprintf(stderr, "nccl_check: no CUDA device\n");
    return 2;
  }
  try {
    run();
  } catch (const std::exception& e) {
    std::printf("FAIL %s\n", e.what());
    ++failures;
  }
  std::printf("nccl_check: %d of %d checks passed on %s\n", checks - failures, checks,
              stratum::compat::cuda_device_name().c_str());
  return failures == 0 ? 0 : 1;
}
