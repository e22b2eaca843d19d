// `stratum launch` through the binary: the torchrun environment and rank-prefixed output, a
// failing worker naming its rank, a killed worker restarted from the last checkpoint with the
// losses of an uninterrupted run, signal forwarding, and bad flags.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/training_run.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::MatchesRegex;

std::string train_args(const TempDir& dir, int steps) {
  return "train --config configs/smoke.yaml --set model.dropout=0.2 --set trainer.steps=" + std::to_string(steps) +
         " --set trainer.checkpoint.every=10 --set trainer.checkpoint.keep_last=10 --set logging.every=1"
         " --set eval.max_samples=200 --set run.output_dir=" + dir.path();
}

// `stratum launch LAUNCH -- WORKER`, with `action` once `ready` holds (see run_until).
CommandResult launch_and(const std::string& launch, const std::string& worker, const std::string& ready,
                         const std::string& action) {
  return run_until(std::string("'") + STRATUM_BINARY + "' launch " + launch + " -- " + worker, ready, action);
}

TEST(Launch, WorkersGetTheTorchrunEnvironmentAndRankPrefixes) {
  const CommandResult r = run_stratum(
      "launch --nproc-per-node 2 --nnodes 2 --node-rank 1 --master-addr 10.1.2.3 --master-port 29611 -- info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("[rank 2] world     rank 2 of 4 (local 0 of 2), master 10.1.2.3:29611, launcher torchrun"));
  EXPECT_THAT(r.out, HasSubstr("[rank 3] world     rank 3 of 4 (local 1 of 2), master 10.1.2.3:29611, launcher torchrun"));
  EXPECT_THAT(r.out, HasSubstr("[rank 2] LibTorch"));
  // auto: one worker per visible GPU, one on a CPU-only machine.
  const CommandResult automatic = run_stratum("launch --nproc-per-node auto -- info");
  ASSERT_EQ(automatic.exit_code, 0) << automatic.err;
  EXPECT_THAT(automatic.out, HasSubstr("[rank 0] world"));
}

TEST(Launch, AFailingWorkerEndsTheLauncherWithItsCodeNamingTheRank) {
  const CommandResult r = run_stratum("launch --nproc-per-node 2 -- train --config /nonexistent.yaml");
  EXPECT_EQ(r.exit_code, 2);
  // Whichever rank fails first ends the job; the other may be stopped before it prints.
  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*\\[rank [01]\\] error: /nonexistent.yaml: cannot read config file(.|\n)*"));
  EXPECT_THAT(r.err, MatchesRegex("(.|\n)*error: rank [01] failed with exit code 2\n"));
}

TEST(Launch, AKilledWorkerRestartsFromTheLastCheckpointWithTheLossesOfAnUninterruptedRun) {
  TempDir plain_dir;
  const CommandResult plain = run_stratum(train_args(plain_dir, 60));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const auto expected = logged_losses(run_directory(plain));

  TempDir dir;
  const std::string worker = train_args(dir, 60);
  const CommandResult r = launch_and("--nproc-per-node 1 --max-restarts 1", worker,
                                     "ls " + dir.path() + "/*/checkpoints/step-20/COMMITTED >/dev/null 2>&1",
                                     "pkill -KILL -f '^stratum train.*" + dir.path() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("[launcher] rank 0 exited with code 137"));
  EXPECT_THAT(r.err, HasSubstr("[launcher] restarting the group (restart 1 of 1) from the latest checkpoint of " + dir.path()));
  EXPECT_THAT(r.out, HasSubstr("restart: resuming from " + dir.path()));
  const auto got = logged_losses(run_directory(r));
  ASSERT_FALSE(got.empty());
  EXPECT_GE(got.begin()->first, 21);
  EXPECT_EQ(got.rbegin()->first, 60);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
}

TEST(Launch, WithoutRestartsAKilledWorkerFailsTheLauncher) {
  TempDir dir;
  const CommandResult r = launch_and("--nproc-per-node 1", train_args(dir, 100000),
                                     "ls " + dir.path() + "/*/checkpoints/step-10/COMMITTED >/dev/null 2>&1",
                                     "pkill -KILL -f '^stratum train.*" + dir.path() + "'");
  EXPECT_EQ(r.exit_code, 137) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("error: rank 0 failed with exit code 137"));
}

TEST(Launch, SigtermIsForwardedAndTheWorkerStopsWithACheckpoint) {
  TempDir dir;
  const CommandResult r = launch_and("--nproc-per-node 1", train_args(dir, 100000),
                                     "ls " + dir.path() + "/*/checkpoints/step-10/COMMITTED >/dev/null 2>&1",
                                     "kill -TERM $pid");
  EXPECT_EQ(r.exit_code, 128 + 15) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("[launcher] Terminated: forwarding to the workers"));
  EXPECT_THAT(r.out, HasSubstr("[rank 0] resume with: stratum launch --nproc-per-node 1 -- train --config "
                               "configs/smoke.yaml --set model.dropout=0.2"));
}

TEST(Launch, BadFlagsExit2NamingTheFlag) {
  CommandResult r = run_stratum("launch --nnodes 2 --node-rank 2 -- info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--node-rank: 2 is not below --nnodes 2"));
  r = run_stratum("launch --master-port 70000 -- info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--master-port"));
  r = run_stratum("launch --nproc-per-node 2 -- launch -- info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("a worker cannot be another launcher"));
  r = run_stratum("launch --nproc-per-node 2147483648 -- info");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--nproc-per-node: expected an integer in [1, 1024], got \"2147483648\""));
  r = run_stratum("launch --master-port 29500.5 -- info");
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Launch, AKilledLauncherTakesItsWorkersWithIt) {
  TempDir dir;
  const std::string worker = "'^stratum train.*" + dir.path() + "'";
  const CommandResult r = launch_and("--nproc-per-node 1", train_args(dir, 100000),
                                     "ls " + dir.path() + "/*/checkpoints/step-10/COMMITTED >/dev/null 2>&1",
                                     "kill -KILL $pid; for i in $(seq 300); do pgrep -f " + worker +
                                         " >/dev/null || break; sleep 0.1; done; pgrep -f " + worker +
                                         " >/dev/null && echo WORKER-STILL-RUNNING && pkill -KILL -f " + worker);
  EXPECT_EQ(r.exit_code, 128 + 9);
  EXPECT_THAT(r.out, ::testing::Not(HasSubstr("WORKER-STILL-RUNNING")));
}

}  // namespace
}  // namespace stratum::testing
