// How `stratum sweep` expands grids, random draws, ablations and seeds, and what it refuses.

#include "engine/experiments/sweep_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "support/user_error.h"

namespace stratum::experiments {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::user_error;

RunConfig smoke() { return load_config(std::string(STRATUM_SOURCE_DIR) + "/configs/smoke.yaml"); }

TEST(SweepPlan, SplitsValueListsAtTheTopLevelOnly) {
  EXPECT_THAT(split_value_list("[1e-3, 3e-3,1e-2]"), ElementsAre("1e-3", "3e-3", "1e-2"));
  EXPECT_THAT(split_value_list("a,b"), ElementsAre("a", "b"));
  EXPECT_THAT(split_value_list("[[0.08, 1.0], [0.5, 1.0]]"), ElementsAre("[0.08, 1.0]", "[0.5, 1.0]"));
  EXPECT_THAT(split_value_list("[\"a,b\", c]"), ElementsAre("\"a,b\"", "c"));
  EXPECT_TRUE(split_value_list("[]").empty());
}

TEST(SweepPlan, GridsMakeTheirCartesianProductTimesSeeds) {
  SweepRequest r;
  r.grids = {"trainer.lr=[0.001,0.003]", "trainer.batch_size=[32,64,128]"};
  r.seeds = {1, 2};
  const std::vector<PlannedRun> runs = plan_sweep(r, smoke());
  ASSERT_EQ(runs.size(), 12u);
  EXPECT_EQ(runs[0].id, "001-lr_0.001_batch_size_32-s1");
  EXPECT_EQ(runs[1].id, "001-lr_0.001_batch_size_32-s2");
  EXPECT_EQ(runs[0].setting, runs[1].setting);
  EXPECT_THAT(runs[0].overrides(), ElementsAre("trainer.lr=0.001", "trainer.batch_size=32", "run.seed=1"));
  EXPECT_THAT(runs[11].overrides(), ElementsAre("trainer.lr=0.003", "trainer.batch_size=128", "run.seed=2"));
  std::set<std::string> ids;
  for (const PlannedRun& p : runs) ids.insert(p.id);
  EXPECT_EQ(ids.size(), runs.size());
  // An empty text value is named, not dropped.
  SweepRequest off;
  off.grids = {"trainer.early_stopping.metric=[\"\", validation.loss]"};
  EXPECT_EQ(plan_sweep(off, smoke())[0].id, "001-metric_none");
  EXPECT_EQ(plan_sweep(off, smoke())[1].id, "002-metric_validation.loss");
  // The same request plans the same ids: a rerun finds its runs again.
  EXPECT_EQ(plan_sweep(r, smoke())[7].id, runs[7].id);
}

TEST(SweepPlan, AblationsSwitchEachComponentToItsNeutralValue) {
  RunConfig base = smoke();
  base.trainer.ema.decay = 0.99;
  base.trainer.label_smoothing = 0.1;
  base.trainer.gradient_checkpointing = true;
  SweepRequest r;
  r.ablations = {"trainer.ema", "trainer.label_smoothing", "trainer.gradient_checkpointing", "model.pool=token"};
  const std::vector<PlannedRun> runs = plan_sweep(r, base);
  ASSERT_EQ(runs.size(), 5u);
  EXPECT_EQ(runs[0].setting, "001-base");
  EXPECT_TRUE(runs[0].overrides().empty());
  EXPECT_THAT(runs[1].overrides(), ElementsAre("trainer.ema.decay=0"));
  EXPECT_EQ(runs[1].ablated, "trainer.ema");
  EXPECT_EQ(runs[1].id, "002-no-ema");
  EXPECT_THAT(runs[2].overrides(), ElementsAre("trainer.label_smoothing=0"));
  EXPECT_THAT(runs[3].overrides(), ElementsAre("trainer.gradient_checkpointing=false"));
  EXPECT_THAT(runs[4].overrides(), ElementsAre("model.pool=token"));
  // A section with an enabled switch.
  EXPECT_THAT(neutral_assignments("adapters.lora", [] {
                RunConfig c = smoke();
                c.adapters.lora.enabled = true;
                return c;
              }(), "--ablate"),
              ElementsAre(std::make_pair(std::string("adapters.lora.enabled"), std::string("false"))));
}

TEST(SweepPlan, RefusesWhatCannotBeSwept) {
  const RunConfig base = smoke();
  const auto error = [&](SweepRequest r) { return user_error([&] { plan_sweep(r, base); }); };
  SweepRequest unknown;
  unknown.grids = {"trainer.lrr=[1,2]"};
  EXPECT_EQ(error(unknown), "--grid trainer.lrr: not a config key (did you mean trainer.lr?); see stratum train --help");
  SweepRequest empty;
  empty.grids = {"trainer.lr=[]"};
  EXPECT_EQ(error(empty), "--grid trainer.lr=[]: no values (expected KEY=[a,b,...])");
  SweepRequest twice;
  twice.grids = {"trainer.lr=[1,1]"};
  EXPECT_THAT(error(twice), HasSubstr("1 is listed twice"));
  SweepRequest same_key;
  same_key.grids = {"trainer.lr=[1,2]", "trainer.lr=[3]"};
  EXPECT_THAT(error(same_key), HasSubstr("varied twice"));
  SweepRequest nothing;
  EXPECT_THAT(error(nothing), HasSubstr("nothing to sweep"));
  SweepRequest off;
  off.ablations = {"trainer.label_smoothing"};  // 0 in the smoke config
  EXPECT_EQ(error(off), "--ablate trainer.label_smoothing: already off in the base config; ablate a component it uses");
  SweepRequest choice;
  choice.ablations = {"trainer.optimizer"};
  EXPECT_THAT(error(choice), HasSubstr("a choice has no \"off\" value; name the value"));
  SweepRequest range_only;
  range_only.ranges = {"trainer.lr=log:1e-4:1e-2"};
  EXPECT_EQ(error(range_only), "--range needs --sample N (draws to make)");
  SweepRequest bad_range;
  bad_range.samples = 2;
  bad_range.ranges = {"trainer.lr=log:0:1e-2"};
  EXPECT_THAT(error(bad_range), HasSubstr("log needs LO > 0"));
  bad_range.ranges = {"trainer.lr=x:1"};
  EXPECT_THAT(error(bad_range), HasSubstr("is not a number"));
}

// Log-uniform draws spread evenly over the decades of the range: each of 4 equal bins of
// log10(lr) in [1e-5, 1e-1] holds a quarter of the draws, within 5 standard errors, for every
// one of 10 seeds. A plain uniform draw over the same range puts ~90% in the top decade and
// fails this test.
TEST(SweepPlan, LogUniformDrawsAreUniformInLogSpace) {
  const RunConfig base = smoke();
  constexpr int kDraws = 2000;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SweepRequest r;
    r.samples = kDraws;
    r.sample_seed = seed;
    r.ranges = {"trainer.lr=log:1e-5:1e-1"};
    const std::vector<PlannedRun> runs = plan_sweep(r, base);
    ASSERT_EQ(runs.size(), static_cast<size_t>(kDraws));
    std::vector<int> bins(4, 0);
    for (const PlannedRun& p : runs) {
      const double lr = std::stod(p.varied.at(0).second);
      ASSERT_GE(lr, 1e-5 * 0.9999);
      ASSERT_LE(lr, 1e-1 * 1.0001);
      bins[static_cast<size_t>(std::min(3.0, std::floor(std::log10(lr) + 5)))]++;
    }
    const double se = std::sqrt(0.25 * 0.75 / kDraws);
    for (int b = 0; b < 4; ++b) EXPECT_NEAR(bins[b] / double(kDraws), 0.25, 5 * se) << "seed " << seed << " bin " << b;
  }
  // Integers stay in [lo, hi] and reach both ends.
  SweepRequest ints;
  ints.samples = 400;
  ints.ranges = {"trainer.batch_size=int:2:5"};
  std::set<std::string> seen;
  for (const PlannedRun& p : plan_sweep(ints, base)) seen.insert(p.varied.at(0).second);
  EXPECT_EQ(seen, (std::set<std::string>{"2", "3", "4", "5"}));
}

}  // namespace
}  // namespace stratum::experiments
