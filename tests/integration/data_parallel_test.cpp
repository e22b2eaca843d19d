// Data-parallel training through `stratum launch` with real processes, Gloo on loopback: the
// same parameters as one process on the doubled batch, restarts after a killed worker, a hung
// rank ending the job within the collective timeout, and the environment and world-size checks.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "integration/checkpoint_tensors.h"
#include "integration/training_run.h"
#include "support/free_port.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// A small GPT without dropout on fortunes; `batch` examples per rank, two micro-batches per step.
std::string gpt_args(const TempDir& dir, int batch, int steps = 8) {
  return std::string("train --config configs/gpt-fortunes.yaml") + kSmallText +
         " --set model.dropout=0 --set trainer.threads=1 --set trainer.grad_accum=2 --set trainer.steps=" +
         std::to_string(steps) + " --set trainer.batch_size=" + std::to_string(batch) +
         " --set run.output_dir=" + dir.path();
}

// The smoke CNN with dropout (so every rank's random stream matters), checkpoints every 10 steps.
std::string cnn_args(const TempDir& dir, int steps, const std::string& extra = "") {
  return "train --config configs/smoke.yaml --set model.dropout=0.2 --set trainer.batch_size=32 --set trainer.threads=1"
         " --set trainer.checkpoint.every=10 --set trainer.checkpoint.keep_last=10 --set logging.every=1"
         " --set eval.max_samples=200 --set trainer.steps=" + std::to_string(steps) + " --set run.output_dir=" +
         dir.path() + extra;
}

std::string launch_two(const std::string& worker, const std::string& flags = "") {
  return "launch --nproc-per-node 2 --master-port " + std::to_string(free_port()) + " " + flags + " -- " + worker;
}

TEST(DataParallel, TwoRanksEndWithTheParametersOfOneProcessOnTheDoubledBatch) {
  TempDir one_dir, two_dir;
  const CommandResult one = run_stratum(gpt_args(one_dir, 8));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const CommandResult two = run_stratum(launch_two(gpt_args(two_dir, 4)));
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  EXPECT_THAT(two.out, HasSubstr("process group: gloo, rank 1 of 2"));
  EXPECT_THAT(two.out, HasSubstr("8 steps of 16 examples (77 steps per epoch); 2 data-parallel replicas of 4 examples"));
  EXPECT_THAT(two.out, HasSubstr("data parallel replicas: all 2 hold identical copies of"));
  const std::string one_run = run_directory(one), two_run = run_directory(two);
  ASSERT_FALSE(two_run.empty()) << two.out;
  EXPECT_LE(largest_difference(one_run + "/checkpoints/step-8", two_run + "/checkpoints/step-8"), 1e-6);
  // Logged losses are the global batch's; the sharded evaluation reduces to the whole split's.
  expect_same_losses(logged_losses(one_run), logged_losses(two_run), 1e-5);
  expect_same_token_evaluation(one_run, two_run, 0.0);
  // Rank 0 writes the run; the other rank only its log.
  EXPECT_TRUE(std::ifstream(two_run + "/train.rank-1.log").good());
  EXPECT_TRUE(std::ifstream(two_run + "/checkpoints/step-8/rng_ranks.pt").good());
}

// Token shards packed by document: two ranks take disjoint halves of every global batch of
// windows and end with one process's parameters; with a sharded stream each replica reads its
// own windows (every second one) and the run completes with the summed evaluation.
TEST(DataParallel, TwoRanksOnTokenShardsEndWithTheParametersOfOneProcess) {
  TempDir shards_dir, one_dir, two_dir, sharded_dir;
  const std::string shards = shards_dir.path() + "/shards";
  const CommandResult prepared = run_stratum("data prepare --config configs/gpt-fortunes.yaml --set data.max_records=1500 "
                                             "--out " + shards);
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  const auto args = [&](const TempDir& dir, int batch, const std::string& extra = "") {
    return "train --config configs/gpt-fortunes-shards.yaml --set data.path=" + shards +
           " --set data.text.max_length=48 --set model.layers=2 --set model.width=32 --set model.heads=2"
           " --set model.mlp_hidden=64 --set trainer.threads=1 --set trainer.steps=6 --set trainer.batch_size=" +
           std::to_string(batch) + " --set trainer.checkpoint.every=6 --set eval.every=0 --set eval.max_samples=64"
           " --set logging.every=1 --set trainer.checkpoint.best_metric= --set run.output_dir=" + dir.path() + extra;
  };
  const CommandResult one = run_stratum(args(one_dir, 8));
  ASSERT_EQ(one.exit_code, 0) << one.err;
  const CommandResult two = run_stratum(launch_two(args(two_dir, 4)));
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  const std::string one_run = run_directory(one), two_run = run_directory(two);
  EXPECT_LE(largest_difference(one_run + "/checkpoints/step-6", two_run + "/checkpoints/step-6"), 1e-6);
  expect_same_losses(logged_losses(one_run), logged_losses(two_run), 1e-5);
  expect_same_token_evaluation(one_run, two_run, 0.0);

  const CommandResult sharded = run_stratum(launch_two(args(sharded_dir, 4, " --set distributed.stream=sharded")));
  ASSERT_EQ(sharded.exit_code, 0) << sharded.out << sharded.err;
  const auto eval = read_json(run_directory(sharded) + "/eval.json");
  const auto whole = read_json(one_run + "/eval.json");
  // Each replica scores its share of the capped validation windows; together, the cap.
  EXPECT_EQ(eval["splits"]["validation"]["samples"], whole["splits"]["validation"]["samples"]);
}

TEST(DataParallel, AKilledWorkerRestartsTheGroupFromTheLastCheckpointAndEndsAsAnUninterruptedRun) {
  TempDir plain_dir;
  const CommandResult plain = run_stratum(launch_two(cnn_args(plain_dir, 40)));
  ASSERT_EQ(plain.exit_code, 0) << plain.out << plain.err;
  const std::string plain_run = run_directory(plain);
  const auto expected = logged_losses(plain_run);

  TempDir dir;
  // -n: only the newest matching worker (one of the two ranks) is killed.
  const CommandResult r = run_until(std::string("'") + STRATUM_BINARY + "' " + launch_two(cnn_args(dir, 40), "--max-restarts 1"),
                                    "ls " + dir.path() + "/*/checkpoints/step-20/COMMITTED >/dev/null 2>&1",
                                    "pkill -KILL -n -f '^stratum train.*" + dir.path() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("exited with code 137"));
  EXPECT_THAT(r.err, HasSubstr("restarting the group (restart 1 of 1)"));
  EXPECT_THAT(r.out, HasSubstr("restart: resuming from " + dir.path()));
  const std::string run = run_directory(r);
  const auto got = logged_losses(run);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.rbegin()->first, 40);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
  EXPECT_EQ(largest_difference(plain_run + "/checkpoints/step-40", run + "/checkpoints/step-40"), 0.0);
}

TEST(DataParallel, ARankThatHangsEndsTheJobWithinTheCollectiveTimeout) {
  TempDir dir;
  const auto start = std::chrono::steady_clock::now();
  // SIGSTOP freezes one rank; the other waits in its next collective for 3 s, fails, and the
  // launcher stops the frozen one.
  const CommandResult r = run_until(std::string("'") + STRATUM_BINARY + "' " +
                                        launch_two(cnn_args(dir, 100000, " --set distributed.collective_timeout_s=3"),
                                                   "--stop-timeout 2"),
                                    "ls " + dir.path() + "/*/checkpoints/step-10/COMMITTED >/dev/null 2>&1",
                                    "pkill -STOP -n -f '^stratum train.*" + dir.path() + "'");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("failed on rank"));
  EXPECT_THAT(r.err, HasSubstr("distributed.collective_timeout_s=3"));
  EXPECT_LT(seconds, 45.0) << r.err;
}

TEST(DataParallel, ResumingOnAnotherWorldSizeNeedsTheSameGlobalBatch) {
  TempDir dir;
  const CommandResult two = run_stratum(launch_two(cnn_args(dir, 10)));
  ASSERT_EQ(two.exit_code, 0) << two.out << two.err;
  const std::string checkpoint = run_directory(two) + "/checkpoints/step-10";
  const CommandResult refused = run_stratum(cnn_args(dir, 20) + " --resume " + checkpoint);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr(checkpoint + "/state.json: trained on 2 rank(s) with a global batch of 64, this job "
                                                  "has 1 rank(s) and a global batch of 32"));
  const CommandResult same_global = run_stratum(cnn_args(dir, 20, " --set trainer.batch_size=64") + " --resume " + checkpoint);
  EXPECT_EQ(same_global.exit_code, 0) << same_global.err;
  EXPECT_THAT(same_global.out, HasSubstr("continuing on 1 with the same global batch of 64"));
}

// The environment a worker is started with: bash `env` assignments before `stratum train`.
CommandResult train_with_env(const std::string& env, const std::string& args) {
  return run_command(std::string("cd '") + STRATUM_SOURCE_DIR + "' && env " + env + " '" + STRATUM_BINARY + "' " + args);
}

TEST(DataParallel, AShardedStreamReadsEachRecordOnceAndResumesExactly) {
  // smoke.yaml reads 4000 training records; sharded, each replica reads every other one into its
  // own reservoirs and splits (and all of t10k, the held-out file: 2,000 + 10,000 read), with
  // rank 0's and replica 1's rejects in files of their own.
  const std::string sharded = " --set distributed.stream=sharded --set data.max_records=2000";
  TempDir dir;
  const CommandResult whole = run_stratum(launch_two(cnn_args(dir, 20, sharded)));
  ASSERT_EQ(whole.exit_code, 0) << whole.out << whole.err;
  EXPECT_THAT(whole.out, HasSubstr("info data: read 12000 records (stream shard 0 of 2) (0 rejected); seen"));
  EXPECT_THAT(whole.out, HasSubstr("info data: read 12000 records (stream shard 1 of 2) (0 rejected); seen"));
  const std::string run = run_directory(whole);
  const auto state = read_json(run + "/checkpoints/step-20/state.json");
  ASSERT_EQ(state["replica_pipeline_sha256"].size(), 2u);
  EXPECT_NE(state["replica_pipeline_sha256"][0], state["replica_pipeline_sha256"][1]);
  EXPECT_TRUE(std::ifstream(run + "/checkpoints/step-20/data_state.replica-1.bin").good());
  // Evaluation covers both replicas' splits: 100 + 100 of max_samples 200 from each seen split.
  EXPECT_EQ(read_json(run + "/eval.json")["splits"]["seen"]["samples"], 200);

  // Resumed from step 10 on two replicas: the same losses and parameters as the whole run.
  TempDir resumed_dir;
  const CommandResult resumed =
      run_stratum(launch_two(cnn_args(resumed_dir, 20, sharded + " --resume " + run + "/checkpoints/step-10")));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;
  const auto expected = logged_losses(run), got = logged_losses(run_directory(resumed));
  ASSERT_FALSE(got.empty());
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
  EXPECT_EQ(largest_difference(run + "/checkpoints/step-20", run_directory(resumed) + "/checkpoints/step-20"), 0.0);

  // One process cannot continue two replicas' shards.
  TempDir one_dir;
  const CommandResult one = run_stratum(cnn_args(one_dir, 20, " --set data.max_records=2000 --set trainer.batch_size=64"
                                                              " --resume " + run + "/checkpoints/step-10"));
  EXPECT_EQ(one.exit_code, 2) << one.out << one.err;
  EXPECT_THAT(one.err, HasSubstr("/state.json: written by a job with a stream sharded over 2 replicas, this job has a "
                                 "replicated stream; each replica's reservoirs come from its shard, so resume with the "
                                 "same distributed.stream and number of replicas"));
}

TEST(DataParallel, BadEnvironmentsExitTwoNamingTheVariableAddressOrPort) {
  TempDir dir;
  const std::string args = cnn_args(dir, 10, " --set distributed.init_timeout_s=2");
  PortListener taken;
  const std::string port = std::to_string(taken.port());
  const CommandResult in_use = train_with_env("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port, args);
  EXPECT_EQ(in_use.exit_code, 2);
  EXPECT_THAT(in_use.err, HasSubstr("error: MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + ": port " + port +
                                    " is already in use on this host"));
  const RefusingPort refusing;  // held, so no other test's listener takes it while rank 1 knocks
  const std::string nobody = std::to_string(refusing.port());
  const CommandResult unreachable = train_with_env("RANK=1 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + nobody, args);
  EXPECT_EQ(unreachable.exit_code, 2);
  EXPECT_THAT(unreachable.err, HasSubstr("MASTER_PORT=" + nobody + ": rank 1 cannot reach the rendezvous store within "
                                                                   "distributed.init_timeout_s=2"));
  const CommandResult out_of_range = train_with_env("RANK=2 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + nobody, args);
  EXPECT_EQ(out_of_range.exit_code, 2);
  EXPECT_THAT(out_of_range.err, HasSubstr("error: environment: RANK=2 is not below WORLD_SIZE=2"));
  const CommandResult missing = train_with_env("RANK=0 WORLD_SIZE=2 MASTER_PORT=" + nobody, args);
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("error: environment: MASTER_ADDR is not set"));
  // A peer that never comes: rank 0 gives up after init_timeout_s, not the (long) collective timeout.
  const CommandResult alone = train_with_env("RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(free_port()),
                                             args + " --set distributed.collective_timeout_s=600");
  EXPECT_EQ(alone.exit_code, 2) << alone.err;
  EXPECT_THAT(alone.err, HasSubstr("not all 2 ranks joined within distributed.init_timeout_s=2 (missing: rank 1)"));
  // Slurm's variables are read the same way when torchrun's are absent.
  const CommandResult slurm_rank = train_with_env("SLURM_PROCID=3 SLURM_NTASKS=2", args);
  EXPECT_EQ(slurm_rank.exit_code, 2);
  EXPECT_THAT(slurm_rank.err, HasSubstr("SLURM_PROCID=3 is not below SLURM_NTASKS=2"));
}

}  // namespace
}  // namespace stratum::testing
