// Several sources mixed by share: the shares resolved from weights and bounds, the schedule's
// bound in every window over many seeds and adversarial shares, and the loader drawing each
// source's examples uniformly, repeating a tiny source pass after pass, resuming exactly.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <filesystem>

#include "data/builtin_sources.h"
#include "data/loader.h"
#include "data/mixing/mix_schedule.h"
#include "data/mixing/mix_shares.h"
#include "data/mixing/read_sources.h"
#include "support/image_files.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;

SourceOptions entry(double weight, double min_share = 0, double max_share = 1) {
  SourceOptions s;
  s.name = "s";
  s.weight = weight;
  s.min_share = min_share;
  s.max_share = max_share;
  return s;
}

TEST(MixShares, WeightsOverTheirSumClampedByTheBoundsWithTheRestSpreadByWeight) {
  EXPECT_THAT(resolve_mix_shares({entry(5), entry(3), entry(2)}),
              ::testing::Pointwise(::testing::DoubleNear(1e-12), std::vector<double>{0.5, 0.3, 0.2}));
  // 0.8 / 0.1 / 0.1 with the first capped at 0.5: the other two share the rest 1 : 1.
  EXPECT_THAT(resolve_mix_shares({entry(8, 0, 0.5), entry(1), entry(1)}),
              ::testing::Pointwise(::testing::DoubleNear(1e-9), std::vector<double>{0.5, 0.25, 0.25}));
  // A floor: 0.9 / 0.1 with the second at least 0.3.
  EXPECT_THAT(resolve_mix_shares({entry(9), entry(1, 0.3)}),
              ::testing::Pointwise(::testing::DoubleNear(1e-9), std::vector<double>{0.7, 0.3}));
  // Weight 0: evaluation only, unless a minimum says otherwise.
  EXPECT_THAT(resolve_mix_shares({entry(1), entry(0)}),
              ::testing::Pointwise(::testing::DoubleNear(1e-12), std::vector<double>{1, 0}));
  EXPECT_THAT(resolve_mix_shares({entry(1), entry(0, 0.2)}),
              ::testing::Pointwise(::testing::DoubleNear(1e-9), std::vector<double>{0.8, 0.2}));
}

TEST(MixShares, ImpossibleWeightsAndBoundsAreErrorsNamingTheKey) {
  EXPECT_THAT(testing::user_error([] { resolve_mix_shares({entry(0), entry(0)}); }), HasSubstr("every weight is 0"));
  EXPECT_THAT(testing::user_error([] { resolve_mix_shares({entry(1, 0.7), entry(1, 0.6)}); }),
              HasSubstr("min_share values add up to 1.3"));
  EXPECT_THAT(testing::user_error([] { resolve_mix_shares({entry(1, 0, 0.3), entry(1, 0, 0.3)}); }),
              HasSubstr("max_share values of the sources with weight add up to 0.6"));
  EXPECT_EQ(testing::user_error([] { resolve_mix_shares({entry(1), entry(1, 0.6, 0.4)}); }),
            "data.sources[1].min_share: 0.6 is above max_share 0.4");
  EXPECT_EQ(testing::user_error([] { resolve_mix_shares({entry(1), entry(-1)}); }),
            "data.sources[1].weight: must be a number >= 0");
}

// Every source's count stays within 2 of share x draws after every draw, for 50 seeds and
// shares chosen to be hard: equal thirds, one tiny next to one huge, a hundred small ones,
// one source of share 0.
TEST(MixSchedule, EverySourceStaysWithinTwoOfItsShareAfterEveryDraw) {
  const std::vector<std::vector<double>> cases = {
      {0.5, 0.3, 0.2}, {1.0 / 3, 1.0 / 3, 1.0 / 3}, {0.999, 0.001}, std::vector<double>(100, 0.01),
      {0.9, 0.0, 0.1}, {0.4, 0.4, 0.1, 0.05, 0.05}};
  for (const auto& shares : cases) {
    double worst = 0;
    for (uint64_t seed = 0; seed < 50; ++seed) {
      MixSchedule schedule(shares, seed);
      for (int64_t g = 1; g <= 4000; ++g) {
        schedule.next();
        for (size_t s = 0; s < shares.size(); ++s) {
          worst = std::max(worst, std::abs(static_cast<double>(schedule.counts()[s]) - shares[s] * static_cast<double>(g)));
        }
      }
      if (shares[1] == 0.0) {
        EXPECT_EQ(schedule.counts()[1], 0);
      }
    }
    EXPECT_LE(worst, 2.0) << shares.size() << " sources";
  }
}

// The interleaving is random, not a fixed cycle: two seeds give different sequences, and
// which source comes next is not predictable from the last one alone.
TEST(MixSchedule, TheInterleavingDependsOnTheSeed) {
  MixSchedule a({0.5, 0.3, 0.2}, 1), b({0.5, 0.3, 0.2}, 2);
  int differ = 0;
  std::vector<std::vector<int>> follows(3, std::vector<int>(3, 0));
  size_t last = a.next();
  b.next();
  for (int i = 0; i < 10000; ++i) {
    const size_t x = a.next();
    differ += x != b.next();
    ++follows[last][x];
    last = x;
  }
  EXPECT_GT(differ, 1000);
  for (int from = 0; from < 3; ++from) {
    int successors = 0;
    for (int to = 0; to < 3; ++to) successors += follows[from][to] > 100;
    EXPECT_GE(successors, 2) << "source " << from << " is always followed by the same source";
  }
}

// Three sources of 100, 10 and 1 examples, rows 0-99, 100-109 and 110 of the seen split.
TensorDataset three_sources() {
  return {torch::zeros({111, 1}), torch::arange(111, torch::kInt64)};
}
std::vector<MixComponent> three_mix() { return {{"big", 0, 100, 0.5}, {"small", 100, 110, 0.3}, {"tiny", 110, 111, 0.2}}; }
size_t source_of(int64_t row) { return row < 100 ? 0 : row < 110 ? 1 : 2; }

// The test: 100 : 10 : 1 with weights 0.5 / 0.3 / 0.2, shares within ±1 percentage point
// in every window of 10,000 training examples (sliding by 1,000) over 20 seeds; the small
// sources repeat, pass after pass, each pass visiting every example once.
TEST(MixedLoader, SharesHoldInEveryWindowAndSmallSourcesRepeatWholePasses) {
  const TensorDataset data = three_sources();
  const std::vector<double> shares = {0.5, 0.3, 0.2};
  double worst = 0;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Loader loader(data, {37, seed, 0, 0, 0, 1, three_mix()});
    std::vector<int64_t> rows;
    while (rows.size() < 60000) {
      const Batch b = loader.next();
      for (int64_t i = 0; i < b.size(); ++i) rows.push_back(b.targets[i].item<int64_t>());
    }
    for (size_t start = 0; start + 10000 <= rows.size(); start += 1000) {
      std::vector<double> count(3, 0);
      for (size_t i = start; i < start + 10000; ++i) ++count[source_of(rows[i])];
      for (size_t s = 0; s < 3; ++s) worst = std::max(worst, std::abs(count[s] / 10000 - shares[s]));
    }
    // "small" (10 examples): every run of 10 of its draws from the start is one pass, a permutation.
    std::vector<int64_t> small;
    for (int64_t r : rows) {
      if (source_of(r) == 1) small.push_back(r);
    }
    for (size_t pass = 0; pass + 10 <= small.size() && pass < 1000; pass += 10) {
      std::vector<int64_t> one(small.begin() + static_cast<std::ptrdiff_t>(pass), small.begin() + static_cast<std::ptrdiff_t>(pass) + 10);
      std::sort(one.begin(), one.end());
      for (int64_t k = 0; k < 10; ++k) ASSERT_EQ(one[static_cast<size_t>(k)], 100 + k) << "seed " << seed << " pass " << pass / 10;
    }
    const auto counts = loader.mix_counts();
    EXPECT_EQ(counts[0] + counts[1] + counts[2], static_cast<int64_t>(rows.size()));
  }
  std::printf("largest share error in a window of 10,000: %.3f percentage points\n", 100 * worst);
  EXPECT_LT(worst, 0.01);
}

// Within its share, the big source's examples are drawn uniformly: over 200 passes, every row is
// drawn 200 times exactly (whole passes), and its position in a pass is uniform.
TEST(MixedLoader, ASourcesExamplesAreDrawnUniformlyWithinItsShare) {
  const TensorDataset data = three_sources();
  Loader loader(data, {50, 9, 0, 0, 0, 1, three_mix()});
  std::vector<int64_t> big;
  while (big.size() < 20000) {
    const Batch b = loader.next();
    for (int64_t i = 0; i < b.size(); ++i) {
      const int64_t r = b.targets[i].item<int64_t>();
      if (r < 100) big.push_back(r);
    }
  }
  big.resize(20000);
  std::vector<int64_t> times(100, 0);
  std::vector<double> first_half(100, 0);  // how often each row falls in the first half of its pass
  for (size_t i = 0; i < big.size(); ++i) {
    ++times[static_cast<size_t>(big[i])];
    if (i % 100 < 50) ++first_half[static_cast<size_t>(big[i])];
  }
  for (int64_t r = 0; r < 100; ++r) {
    EXPECT_EQ(times[static_cast<size_t>(r)], 200);
    // Binomial(200, 1/2): 100 ± 4.5 sd; ± 27 is 6 sd.
    EXPECT_NEAR(first_half[static_cast<size_t>(r)], 100, 27) << "row " << r;
  }
}

TEST(MixedLoader, StartingMidStreamContinuesTheSameSequenceAcrossEpochs) {
  const TensorDataset data = three_sources();
  Loader full(data, {16, 5, 2, 0, 0, 1, three_mix()});
  std::vector<torch::Tensor> expected;
  for (int i = 0; i < 40; ++i) expected.push_back(full.next().targets);  // 7 batches per epoch: 5+ epochs
  for (int64_t start : {0, 3, 7, 15, 39}) {
    Loader resumed(data, {16, 5, 2, start, 0, 1, three_mix()});
    for (int64_t i = start; i < 40; ++i) ASSERT_TRUE(torch::equal(resumed.next().targets, expected[i])) << start;
    if (start == 39) {
      EXPECT_EQ(resumed.mix_counts(), full.mix_counts());
    }
  }
  // Two data-parallel ranks split each global batch of the same sequence.
  Loader rank0(data, {16, 5, 0, 0, 0, 2, three_mix()}), rank1(data, {16, 5, 0, 0, 1, 2, three_mix()});
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(torch::equal(torch::cat({rank0.next().targets, rank1.next().targets}), expected[i])) << i;
  }
}

// ROOT/CLASS/N.png for each class, `count` test patterns each, brightened by `lift` levels.
std::string image_folder(const testing::TempDir& dir, const std::string& name, const std::vector<std::string>& classes,
                         int count, int lift) {
  for (const std::string& c : classes) {
    std::filesystem::create_directories(dir.path() + "/" + name + "/" + c);
    for (int i = 0; i < count; ++i) {
      std::vector<uint8_t> pixels = testing::test_pattern(24, 24, 3, i + 31 * static_cast<int>(c.size()));
      for (uint8_t& v : pixels) v = static_cast<uint8_t>(std::min(255, v / 2 + lift));
      dir.write(name + "/" + c + "/" + std::to_string(i) + ".png", testing::encode_png(pixels, 24, 24, 3));
    }
  }
  return dir.path() + "/" + name;
}

// Two image folders in one mix, a dark one and a bright one with overlapping classes: one split
// behind a store whose rows are each folder's examples restated with the mixture's statistics
// (so the dark folder's examples sit below zero and the bright one's above, the whole at mean
// 0 and deviation 1), labelled with the merged class ids, augmented in training.
TEST(MixedImageSources, TwoFoldersMixAsOneSplitRestandardizedAndRelabelled) {
  testing::TempDir dir;
  DataOptions options;
  options.image.size = 16;
  options.image.resize = 20;
  options.image.augment = {ImageAugmentation::random_resized_crop, ImageAugmentation::horizontal_flip};
  options.unseen.by = UnseenBy::none;
  options.validation_fraction = 0;
  options.workers = 2;
  for (const auto& [name, classes, lift] : {std::tuple<std::string, std::vector<std::string>, int>{"dark", {"cat", "dog"}, 0},
                                            {"bright", {"dog", "emu"}, 120}}) {
    SourceOptions source;
    source.name = name;
    source.source = "image_folder";
    source.path = image_folder(dir, name, classes, 12, lift);
    source.weight = 0.5;
    source.unseen.by = UnseenBy::none;
    options.sources.push_back(source);
  }
  SourceRegistry registry("data source");
  register_builtin_sources(registry);
  DataContext context;
  context.seed = 3;
  const SplitData mix = read_sources(registry, options, context);
  EXPECT_EQ(mix.spec.class_names, (std::vector<std::string>{"cat", "dog", "emu"}));
  ASSERT_EQ(mix.seen.size(), 48);
  ASSERT_TRUE(mix.seen.store);
  ASSERT_EQ(mix.mix.size(), 2u);
  const Batch all = mix.seen.gather(torch::arange(48));
  EXPECT_EQ(all.inputs.sizes(), (std::vector<int64_t>{48, 3, 16, 16}));
  const torch::Tensor dark = all.inputs.slice(0, mix.mix[0].begin, mix.mix[0].end);
  const torch::Tensor bright = all.inputs.slice(0, mix.mix[1].begin, mix.mix[1].end);
  EXPECT_LT(dark.mean().item<double>(), -0.5);
  EXPECT_GT(bright.mean().item<double>(), 0.5);
  for (int64_t c = 0; c < 3; ++c) {
    EXPECT_NEAR(all.inputs.select(1, c).mean().item<double>(), 0.0, 0.05) << "channel " << c;
    EXPECT_NEAR(all.inputs.select(1, c).std().item<double>(), 1.0, 0.1) << "channel " << c;
  }
  // Class ids: the dark folder's cat / dog are 0 / 1, the bright folder's dog / emu 1 / 2.
  const torch::Tensor dark_labels = all.targets.slice(0, mix.mix[0].begin, mix.mix[0].end);
  const torch::Tensor bright_labels = all.targets.slice(0, mix.mix[1].begin, mix.mix[1].end);
  EXPECT_EQ(dark_labels.eq(0).sum().item<int64_t>(), 12);
  EXPECT_EQ(dark_labels.eq(1).sum().item<int64_t>(), 12);
  EXPECT_EQ(bright_labels.eq(1).sum().item<int64_t>(), 12);
  EXPECT_EQ(bright_labels.eq(2).sum().item<int64_t>(), 12);
  EXPECT_TRUE(torch::equal(all.targets, mix.seen.targets));  // the labels counted are the ones served
  EXPECT_EQ(mix.label_counts.at("seen"), (std::vector<int64_t>{12, 24, 12}));
  // Any order of indices gives the same rows; training examples are augmented per epoch.
  const torch::Tensor some = torch::tensor({40, 3, 17, 30, 3}, torch::kInt64);
  const Batch picked = mix.seen.gather(some);
  EXPECT_TRUE(torch::equal(picked.inputs, all.inputs.index_select(0, some)));
  EXPECT_TRUE(torch::equal(picked.targets, all.targets.index_select(0, some)));
  const Batch trained = mix.seen.gather_training(some, 1);
  EXPECT_FALSE(torch::equal(trained.inputs, picked.inputs));
  EXPECT_TRUE(torch::equal(trained.inputs[1], trained.inputs[4]));
  EXPECT_TRUE(torch::equal(trained.inputs, mix.seen.gather_training(some, 1).inputs));
  // The loader draws both folders at their shares.
  Loader loader(mix.seen, {16, 5, 0, 0, 0, 1, mix.mix});
  int64_t from_bright = 0;
  for (int b = 0; b < 30; ++b) from_bright += loader.next().targets.eq(2).sum().item<int64_t>();
  EXPECT_NEAR(static_cast<double>(from_bright) / (30 * 16), 0.25, 0.05);  // emu: half the bright draws
}

}  // namespace
}  // namespace stratum::data
