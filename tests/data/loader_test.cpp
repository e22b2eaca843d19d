#include "data/loader.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

namespace stratum::data {
namespace {

TensorDataset numbered(int64_t n) {
  return {torch::arange(n, torch::kFloat32).reshape({n, 1}), torch::arange(n, torch::kInt64)};
}

TEST(Loader, EveryExampleOncePerEpochInASeededOrder) {
  const TensorDataset data = numbered(103);
  Loader loader(data, {10, 7, 3});
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    std::set<int64_t> seen;
    int64_t batches = 0;
    while (seen.size() < 103) {
      const Batch b = loader.next();
      EXPECT_EQ(loader.epoch(), epoch);
      for (int64_t i = 0; i < b.size(); ++i) EXPECT_TRUE(seen.insert(b.targets[i].item<int64_t>()).second);
      ++batches;
    }
    EXPECT_EQ(batches, 11);  // ten full batches and one of 3
  }
}

TEST(Loader, PrefetchingNeverChangesTheOrder) {
  const TensorDataset data = numbered(50);
  Loader synchronous(data, {8, 11, 0}), prefetching(data, {8, 11, 5}), other_seed(data, {8, 12, 5});
  bool differs = false;
  for (int i = 0; i < 30; ++i) {
    const Batch a = synchronous.next(), b = prefetching.next(), c = other_seed.next();
    ASSERT_TRUE(torch::equal(a.targets, b.targets)) << "batch " << i;
    ASSERT_TRUE(torch::equal(a.inputs, b.inputs));
    differs |= !torch::equal(a.targets, c.targets);
  }
  EXPECT_TRUE(differs);
}

TEST(Loader, StartingMidStreamContinuesTheSameSequence) {
  const TensorDataset data = numbered(37);
  Loader full(data, {5, 3, 2});
  std::vector<torch::Tensor> expected;
  for (int i = 0; i < 25; ++i) expected.push_back(full.next().targets);
  for (int64_t start : {0, 4, 8, 13, 24}) {
    Loader resumed(data, {5, 3, 2, start});
    for (int64_t i = start; i < 25; ++i) ASSERT_TRUE(torch::equal(resumed.next().targets, expected[i])) << start;
  }
}

TEST(Loader, ShutsDownCleanlyWhileTheQueueIsFull) {
  const TensorDataset data = numbered(1000);
  for (int i = 0; i < 20; ++i) {
    Loader loader(data, {4, 1, 2});
    loader.next();
  }  // each destructor stops a worker blocked on a full queue
  SUCCEED();
}

}  // namespace
}  // namespace stratum::data
