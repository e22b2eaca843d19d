// Continuous training with two data-parallel replicas through `stratum launch` (Gloo on
// loopback): each reads the whole stream in lockstep and trains on its half of the global batch.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "integration/checkpoint_tensors.h"
#include "integration/continuous_stream_args.h"
#include "integration/training_run.h"
#include "support/free_port.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// Two replicas read the whole stream in lockstep, admit the same records at the same steps and
// draw the same global batch, each training on its half: they end with the parameters of one
// process on the whole batch.
TEST(ContinuousRun, TwoReplicasEndWithTheParametersOfOneProcessOnTheDoubledBatch) {
  TempDir dir, one_dir, two_dir;
  const std::string path = dir.write("stream.txt", stream_lines(1200));
  // SGD for 40 steps: Adam's division by tiny second moments would blow the reduction's
  // rounding differences up to ~1e-4 (measured), hiding what this test looks for.
  const std::string common = " --set model.dropout=0 --set trainer.checkpoint.every=0 --set trainer.optimizer=sgd"
                             " --set trainer.lr=0.1 --set trainer.steps=40";
  const CommandResult one = run_stratum(text_args(path, one_dir) + common + " --set trainer.batch_size=16");
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const CommandResult two = run_stratum("launch --nproc-per-node 2 --master-port " + std::to_string(free_port()) +
                                        " -- " + text_args(path, two_dir) + common + " --set trainer.batch_size=8");
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  EXPECT_THAT(two.out, HasSubstr("data parallel replicas: all 2 hold identical copies of"));
  const std::string a = run_directory(one), b = run_directory(two);
  ASSERT_FALSE(b.empty()) << two.out;
  const int64_t steps = read_json(a + "/eval.json")["step"].get<int64_t>();
  EXPECT_EQ(read_json(b + "/eval.json")["step"].get<int64_t>(), steps);
  const std::string last = "/checkpoints/step-" + std::to_string(steps);
  EXPECT_LE(largest_difference(a + last, b + last), 1e-5);
  // The test-then-train windows are the same records scored by the same model.
  const auto windows_a = records_of(a, "prequential"), windows_b = records_of(b, "prequential");
  ASSERT_EQ(windows_a.size(), windows_b.size());
  for (size_t i = 0; i < windows_a.size(); ++i) {
    EXPECT_NEAR(windows_a[i]["loss"].get<double>(), windows_b[i]["loss"].get<double>(), 1e-4) << "window " << i;
  }
  // The rank that writes the run lists each rejected line once.
  EXPECT_EQ(count_lines(read_file(b + "/rejects.jsonl")), count_lines(read_file(a + "/rejects.jsonl")));
}

}  // namespace
}  // namespace stratum::testing
