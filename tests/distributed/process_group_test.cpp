// The c10d process group and the bucketed gradient averaging, with two ranks as two threads of
// this process meeting over a real TCPStore and Gloo on loopback.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <thread>

#include "core/error.h"
#include "engine/evaluator.h"
#include "distributed/data_parallel.h"
#include "distributed/process_group.h"
#include "support/free_port.h"
#include "support/thread_ranks.h"

namespace stratum::distributed {
namespace {

using ::testing::HasSubstr;

using testing::free_port;
using testing::RefusingPort;
using testing::PortListener;

WorldInfo rank_of_two(int rank, int port) { return testing::thread_rank(rank, 2, port); }
using testing::gloo_options;

void on_two_ranks(const std::function<void(ProcessGroup&, int)>& body) { testing::on_ranks(2, body); }

// Weights and inputs come from formulas, not the global generator the two rank threads share.
torch::nn::Sequential three_layers(double shift = 0) {
  torch::nn::Sequential model(torch::nn::Linear(8, 16), torch::nn::Tanh(), torch::nn::Linear(16, 16), torch::nn::Tanh(),
                              torch::nn::Linear(16, 4));
  torch::NoGradGuard no_grad;
  int64_t k = 0;
  for (auto& p : model->parameters()) {
    p.copy_(torch::sin(torch::arange(p.numel(), torch::kFloat32) * 0.7 + static_cast<double>(++k)).view(p.sizes()) * 0.5 +
            shift);
  }
  return model;
}

torch::Tensor input_of(int rank, int64_t micro = 0) {
  return torch::cos(torch::arange(40, torch::kFloat32).view({5, 8}) * (1.0 + 0.37 * rank + 0.11 * micro));
}

// Gradients of `model` for the sum over `inputs` of each input's mean-squared output.
std::vector<torch::Tensor> local_gradients(torch::nn::Sequential& model, const std::vector<torch::Tensor>& inputs) {
  model->zero_grad();
  for (const auto& x : inputs) model->forward(x).pow(2).mean().backward();
  std::vector<torch::Tensor> grads;
  for (const auto& p : model->parameters()) grads.push_back(p.grad().clone());
  return grads;
}

TEST(ProcessGroup, SumsBroadcastsAndSharesRankZerosStrings) {
  on_two_ranks([](ProcessGroup& group, int rank) {
    EXPECT_EQ(group.backend(), "gloo");
    EXPECT_EQ(group.rank(), rank);
    torch::Tensor sum = torch::full({3}, static_cast<float>(rank + 1));
    group.all_reduce_sum(sum);
    EXPECT_TRUE(sum.equal(torch::full({3}, 3.0f)));
    torch::Tensor pending = torch::arange(4, torch::kInt64) * (rank + 1);
    group.all_reduce_sum_async(pending)->wait();
    EXPECT_TRUE(pending.equal(torch::arange(4, torch::kInt64) * 3));
    torch::Tensor from_one = torch::full({2}, static_cast<double>(rank), torch::kFloat64);
    group.broadcast(from_one, 1);
    EXPECT_TRUE(from_one.equal(torch::ones({2}, torch::kFloat64)));
    EXPECT_EQ(group.share_from_primary("run_dir", rank == 0 ? "/runs/x-1" : ""), "/runs/x-1");
    group.barrier();
  });
}

TEST(DataParallel, ReplicasStartFromRankZerosWeightsAndGetTheAverageGradientInBuckets) {
  on_two_ranks([](ProcessGroup& group, int rank) {
    auto model = three_layers(/*shift=*/rank);  // different initial weights on each rank
    // Small buckets: the 16x16 layer alone fills one, so there are several.
    const auto sync = group.data_parallel(*model, 16 * 16 * 4);
    auto* buckets = dynamic_cast<BucketedGradientSync*>(sync.get());
    ASSERT_NE(buckets, nullptr);
    auto reference = three_layers();  // rank 0's initial weights
    for (size_t i = 0; i < model->parameters().size(); ++i) {
      EXPECT_TRUE(model->parameters()[i].equal(reference->parameters()[i])) << "parameter " << i;
    }
    // The expected average: this rank's and the other rank's gradients on the same weights.
    const auto mine = local_gradients(reference, {input_of(rank)});
    const auto theirs = local_gradients(reference, {input_of(1 - rank)});

    model->zero_grad();
    model->forward(input_of(rank)).pow(2).mean().backward();
    sync->finish();
    const auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_LT((params[i].grad() - (mine[i] + theirs[i]) / 2).abs().max().item<float>(), 1e-6) << "parameter " << i;
    }
    // Reverse registration order, at most 1 KiB each: {b3, W3, b2} (336 B), {W2} (1 KiB), {b1, W1}.
    EXPECT_EQ(buckets->bucket_sizes(), (std::vector<int64_t>{3, 1, 2}));
    // Buckets started from the gradient hooks, while backward was still running.
    EXPECT_GE(buckets->buckets_started_in_backward(), 2);
  });
}

TEST(DataParallel, NoSyncAccumulatesLocallyAndTheLastBackwardReducesTheSum) {
  on_two_ranks([](ProcessGroup& group, int rank) {
    auto model = three_layers();
    auto reference = three_layers();
    const auto sync = group.data_parallel(*model, 25'000'000);
    const auto mine = local_gradients(reference, {input_of(rank, 0), input_of(rank, 1)});
    const auto theirs = local_gradients(reference, {input_of(1 - rank, 0), input_of(1 - rank, 1)});
    const auto first_only = local_gradients(reference, {input_of(rank, 0)});

    model->zero_grad();
    sync->set_sync(false);
    model->forward(input_of(rank, 0)).pow(2).mean().backward();
    sync->finish();  // nothing to do under no_sync: the gradient stays this rank's own
    const auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(params[i].grad().allclose(first_only[i], 0, 1e-7));
    sync->set_sync(true);
    model->forward(input_of(rank, 1)).pow(2).mean().backward();
    sync->finish();
    for (size_t i = 0; i < params.size(); ++i) {
      EXPECT_LT((params[i].grad() - (mine[i] + theirs[i]) / 2).abs().max().item<float>(), 1e-6) << "parameter " << i;
    }
  });
}

TEST(DataParallel, AParameterOneRanksBackwardDidNotReachCountsAsZero) {
  on_two_ranks([](ProcessGroup& group, int rank) {
    auto model = three_layers();
    const auto sync = group.data_parallel(*model, 16 * 16 * 4);
    model->zero_grad();
    const torch::Tensor x = input_of(rank);
    // Rank 1 stops after the first layer: the others get no gradient there.
    const torch::Tensor out = rank == 0 ? model->forward(x) : model[0]->as<torch::nn::Linear>()->forward(x);
    out.pow(2).mean().backward();
    sync->finish();
    torch::Tensor last_weight = model->parameters()[4].grad();
    torch::Tensor last_weight_rank0 = last_weight.clone();
    group.broadcast(last_weight_rank0, 0);
    EXPECT_TRUE(last_weight.equal(last_weight_rank0));  // both ranks hold the same average
    EXPECT_GT(last_weight.abs().sum().item<float>(), 0);
  });
}

// Logits are the inputs themselves (no weights, so rank threads share nothing).
class Echo : public models::Model {
 public:
  torch::Tensor forward(const data::Batch& batch) override { return batch.inputs; }
};

TEST(DataParallel, EvaluatingEachRanksOwnSplitEqualsEvaluatingTheirUnion) {
  // Rank 0 holds 7 examples, rank 1 holds 4: a sharded stream's uneven parts of one split.
  const auto part = [](int rank) {
    const int64_t n = rank == 0 ? 7 : 4;
    const torch::Tensor labels = (torch::arange(n, torch::kInt64) + rank) % 3;
    const torch::Tensor logits = torch::sin(torch::arange(n * 3, torch::kFloat32).view({n, 3}) * (1.3 + rank)) * 2;
    return data::TensorDataset{logits, labels, {}};
  };
  const data::TensorDataset zero = part(0), one = part(1);
  const data::TensorDataset both{torch::cat({zero.inputs, one.inputs}), torch::cat({zero.targets, one.targets}), {}};
  EvalOptions options;
  options.batch_size = 3;
  Echo whole_model;
  const SplitEvaluation expected = evaluate_split(whole_model, both, "validation", 3, -1, options, torch::kCPU);
  on_two_ranks([&](ProcessGroup& group, int rank) {
    Echo model;
    const SplitEvaluation got =
        evaluate_split(model, rank == 0 ? zero : one, "validation", 3, -1, options, torch::kCPU, &group, /*local_splits=*/true);
    EXPECT_EQ(got.samples, 11);
    EXPECT_NEAR(got.loss, expected.loss, 1e-6);
    EXPECT_DOUBLE_EQ(got.scores.accuracy, expected.scores.accuracy);
    EXPECT_EQ(got.confidence, expected.confidence);  // rank 0's examples, then rank 1's
    EXPECT_DOUBLE_EQ(got.ece, expected.ece);
  });
}

TEST(ProcessGroup, APortAlreadyInUseIsAUserErrorNamingIt) {
  PortListener taken;
  try {
    ProcessGroup::connect(rank_of_two(0, taken.port()), gloo_options(5));
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("MASTER_PORT=" + std::to_string(taken.port())));
    EXPECT_THAT(e.what(), HasSubstr("is already in use"));
  }
}

TEST(ProcessGroup, AStoreThatCannotBeReachedIsAUserErrorNamingTheAddress) {
  // Held for the whole test: a port merely free when chosen can become another test's Gloo
  // pair port within the second this rank keeps knocking, which breaks that test.
  const RefusingPort refusing;
  const int port = refusing.port();
  try {
    ProcessGroup::connect(rank_of_two(1, port), gloo_options(1));
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port)));
    EXPECT_THAT(e.what(), HasSubstr("rank 1 cannot reach the rendezvous store"));
  }
}

TEST(ProcessGroup, ACollectiveAnotherRankNeverJoinsFailsWithinTheTimeout) {
  const int port = free_port();
  std::string error;
  double waited = 0;
  std::thread other([&] {
    const auto group = ProcessGroup::connect(rank_of_two(1, port), gloo_options(2));
    group->barrier();
    std::this_thread::sleep_for(std::chrono::seconds(4));  // never joins the all-reduce
  });
  {
    const auto group = ProcessGroup::connect(rank_of_two(0, port), gloo_options(2));
    group->barrier();
    const auto start = std::chrono::steady_clock::now();
    try {
      torch::Tensor t = torch::ones({4});
      group->all_reduce_sum(t);
    } catch (const std::runtime_error& e) {
      error = e.what();
    }
    waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  other.join();
  EXPECT_THAT(error, HasSubstr("distributed: all-reduce failed on rank 0"));
  EXPECT_THAT(error, HasSubstr("collective_timeout_s=2"));
  EXPECT_LT(waited, 4.0);
}

}  // namespace
}  // namespace stratum::distributed
