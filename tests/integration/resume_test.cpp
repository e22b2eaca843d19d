// Checkpoints and resume through the binary: exact continuation, graceful stop on a signal,
// and loading that fails closed.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/torch_compat.h"
#include "integration/training_run.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

std::string args(const TempDir& dir, int steps) {
  return "train --config configs/smoke.yaml --set model.dropout=0.2 --set trainer.steps=" + std::to_string(steps) +
         " --set trainer.checkpoint.every=10 --set trainer.checkpoint.keep_last=5 --set logging.every=1"
         " --set eval.max_samples=200 --set run.output_dir=" + dir.path();
}

TEST(Resume, ContinuesWithBitwiseEqualLosses) {
  TempDir dir;
  const CommandResult full = run_stratum(args(dir, 30));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string a = run_directory(full);
  for (const char* step : {"step-10", "step-20", "step-30"}) {
    EXPECT_TRUE(fs::is_regular_file(a + "/checkpoints/" + step + "/COMMITTED")) << step;
  }
  // Resume from step 10 (with dropout on, so the restored random generator matters).
  const CommandResult resumed = run_stratum(args(dir, 30) + " --resume " + a + "/checkpoints/step-10");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto expected = logged_losses(a), got = logged_losses(run_directory(resumed));
  ASSERT_EQ(got.size(), 20u);
  EXPECT_EQ(got.begin()->first, 11);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
  const auto eval_a = nlohmann::json::parse(read_file(a + "/eval.json"));
  const auto eval_b = nlohmann::json::parse(read_file(run_directory(resumed) + "/eval.json"));
  EXPECT_EQ(eval_a["splits"]["unseen"]["confusion_matrix"], eval_b["splits"]["unseen"]["confusion_matrix"]);
  // A run directory resumes from its latest complete checkpoint.
  const CommandResult latest = run_stratum(args(dir, 40) + " --resume " + a);
  ASSERT_EQ(latest.exit_code, 0) << latest.err;
  EXPECT_EQ(logged_losses(run_directory(latest)).begin()->first, 31);
}

TEST(Eval, ReproducesTheRunsFinalEvaluationFromItsCheckpoint) {
  TempDir dir;
  const CommandResult run = run_stratum(args(dir, 20));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string out = dir.path() + "/eval.json";
  const CommandResult r = run_stratum("eval --config configs/smoke.yaml --set eval.max_samples=200 --checkpoint " +
                                      run_directory(run) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("(step 20)"));
  const auto trained = nlohmann::json::parse(read_file(run_directory(run) + "/eval.json"));
  const auto evaluated = nlohmann::json::parse(read_file(out));
  for (const char* split : {"seen", "validation", "unseen"}) {
    EXPECT_EQ(trained["splits"][split]["confusion_matrix"], evaluated["splits"][split]["confusion_matrix"]) << split;
    EXPECT_NEAR(trained["splits"][split]["loss"].get<double>(), evaluated["splits"][split]["loss"].get<double>(), 1e-5)
        << split;
  }
}

TEST(BestCheckpoint, KeepsTheStepWithTheBestValidationAccuracy) {
  TempDir dir;
  const CommandResult r = run_stratum(args(dir, 30) + " --set eval.every=10 --set trainer.checkpoint.best_metric=validation.accuracy");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = run_directory(r);
  std::map<int64_t, double> accuracy;
  std::istringstream lines(read_file(run + "/metrics.jsonl"));
  std::string line;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "eval" && record["split"] == "validation") {
      accuracy[record["step"].get<int64_t>()] = record["accuracy"].get<double>();
    }
  }
  ASSERT_EQ(accuracy.size(), 3u);
  int64_t best_step = 0;
  for (const auto& [step, value] : accuracy) {
    if (best_step == 0 || value > accuracy[best_step]) best_step = step;
  }
  std::vector<std::string> kept;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints/best")) kept.push_back(e.path().filename().string());
  EXPECT_EQ(kept, (std::vector<std::string>{"step-" + std::to_string(best_step)}));
  EXPECT_TRUE(fs::is_regular_file(run + "/checkpoints/best/step-" + std::to_string(best_step) + "/COMMITTED"));

  TempDir other;
  const CommandResult bad = run_stratum(args(other, 30) + " --set trainer.checkpoint.best_metric=validation.acc");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("trainer.checkpoint.best_metric: expected SPLIT.METRIC"));
}

TEST(MixedPrecision, Bfloat16TrainsOnTheCpu) {
  TempDir dir;
  // The smoke config's model as an MLP: LibTorch 1.13's bfloat16 convolutions are slow on the
  // CPU (40 s for this test with the CNN), and autocast's bfloat16 matmuls are what is tested.
  const CommandResult r = run_stratum(args(dir, 40) + " --set trainer.precision=bf16 --set model.name=mlp");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto trained = logged_losses(run_directory(r));
  EXPECT_LT(trained.rbegin()->second, 0.8 * trained.begin()->second);
}

TEST(MixedPrecision, Float16TrainsWithDynamicLossScalingWhereTheLibTorchHasIt) {
  TempDir dir;
  const CommandResult r = run_stratum(args(dir, 60) + " --set trainer.precision=fp16");
  if (!compat::cpu_half_autocast()) {
    // LibTorch 1.13 has no float16 autocast on the CPU: refused up front, naming the key.
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_THAT(r.err, HasSubstr("trainer.precision: fp16 on the CPU needs LibTorch 2.4 or later"));
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = run_directory(r);
  const auto trained = logged_losses(run);
  EXPECT_LT(trained.rbegin()->second, 0.8 * trained.begin()->second);
  std::istringstream lines(read_file(run + "/metrics.jsonl"));
  std::string line;
  int scaled = 0;
  while (std::getline(lines, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] != "train") continue;
    const double scale = record["loss_scale"].get<double>();
    EXPECT_GT(scale, 0);
    EXPECT_EQ(scale, std::exp2(std::round(std::log2(scale))));  // only ever halved or doubled
    ++scaled;
  }
  EXPECT_EQ(scaled, 60);
  const auto state = nlohmann::json::parse(read_file(run + "/checkpoints/step-60/state.json"));
  EXPECT_GT(state["loss_scale"].get<double>(), 0);
}

TEST(Resume, AKillWhileACheckpointIsWrittenKeepsThePreviousOneAndResumeUsesIt) {
  TempDir dir;
  const CommandResult full = run_stratum(args(dir, 30));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const auto expected = logged_losses(run_directory(full));

  // Every checkpoint's commit is held 2 s; SIGKILL lands once step-20's files are staged.
  TempDir killed_dir;
  const std::string staged = killed_dir.path() + "/*/checkpoints/.tmp-step-20-*";
  const CommandResult killed =
      run_until(std::string("STRATUM_TEST_CHECKPOINT_DELAY_MS=2000 '") + STRATUM_BINARY + "' " + args(killed_dir, 30),
                "ls -d " + staged + " >/dev/null 2>&1", "sleep 0.5; kill -KILL $pid");
  ASSERT_EQ(killed.exit_code, 128 + 9) << killed.out << killed.err;
  std::string run;
  for (const auto& e : fs::directory_iterator(killed_dir.path())) {
    if (e.is_directory()) run = e.path().string();  // not the audit ledger beside the runs
  }
  ASSERT_FALSE(run.empty());
  EXPECT_TRUE(fs::is_regular_file(run + "/checkpoints/step-10/COMMITTED"));
  EXPECT_FALSE(fs::exists(run + "/checkpoints/step-20"));
  bool debris = false;
  for (const auto& e : fs::directory_iterator(run + "/checkpoints")) {
    debris |= e.path().filename().string().rfind(".tmp-step-20-", 0) == 0;
  }
  EXPECT_TRUE(debris) << "the kill did not land inside the checkpoint write";

  const CommandResult resumed = run_stratum(args(killed_dir, 30) + " --resume " + run);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  EXPECT_THAT(resumed.out + resumed.err, HasSubstr("resumed from " + run + "/checkpoints/step-10 at step 10"));
  const auto got = logged_losses(run_directory(resumed));
  ASSERT_EQ(got.size(), 20u);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
}

TEST(Resume, CorruptOrIncompleteCheckpointsFailClosed) {
  TempDir dir;
  const CommandResult full = run_stratum(args(dir, 20));
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string checkpoint = run_directory(full) + "/checkpoints/step-10";
  dir.write(fs::relative(checkpoint + "/model.pt", dir.path()).string(), "garbage");
  CommandResult r = run_stratum(args(dir, 20) + " --resume " + checkpoint);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(checkpoint + "/model.pt: checksum mismatch"));

  const std::string other = run_directory(full) + "/checkpoints/step-20";
  fs::remove(other + "/COMMITTED");
  r = run_stratum(args(dir, 20) + " --resume " + other);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(other + "/COMMITTED: missing commit marker"));

  // Different data: refused rather than silently training on something else.
  const CommandResult again = run_stratum(args(dir, 20));
  ASSERT_EQ(again.exit_code, 0);
  r = run_stratum(args(dir, 20) + " --set data.max_records=3000 --resume " + run_directory(again));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("the data differs from the data this checkpoint was trained on"));
}

TEST(Resume, SigtermFinishesTheStepCheckpointsAndExitsZero) {
  TempDir dir;
  const CommandResult r = run_until(std::string("'") + STRATUM_BINARY + "' " + args(dir, 100000), "true",
                                    "sleep 4; kill -TERM $pid");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("resume with: stratum train --config configs/smoke.yaml --set model.dropout=0.2 --set "
                               "trainer.steps=100000 "));
  const std::string run = run_directory(r);
  ASSERT_FALSE(run.empty());
  const auto trained = logged_losses(run);
  ASSERT_FALSE(trained.empty());
  const int64_t last = trained.rbegin()->first;
  EXPECT_LT(last, 100000);
  EXPECT_TRUE(fs::is_regular_file(run + "/checkpoints/step-" + std::to_string(last) + "/COMMITTED"));
  EXPECT_THAT(read_file(run + "/report.html"), HasSubstr("No eval.json: the run stopped before its final evaluation."));
}

TEST(Resume, ThePrintedResumeCommandContinuesTheSameRun) {
  TempDir dir;
  const std::string overrides = " --set trainer.lr=0.002 --set 'trainer.no_decay=[bias, norm]'";
  const CommandResult stopped = run_until(std::string("'") + STRATUM_BINARY + "' " + args(dir, 100000) + overrides,
                                          "ls " + dir.path() + "/*/checkpoints/step-10/COMMITTED >/dev/null 2>&1",
                                          "kill -INT $pid");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.out << stopped.err;
  const auto at = stopped.out.find("resume with: ");
  ASSERT_NE(at, std::string::npos) << stopped.out;
  std::string command = stopped.out.substr(at + 13, stopped.out.find('\n', at) - at - 13);
  EXPECT_THAT(command, HasSubstr("--set trainer.lr=0.002 --set 'trainer.no_decay=[bias, norm]'"));
  // Follow it (a short continuation: the config's steps are overridden last).
  command.replace(0, std::string("stratum").size(), std::string("'") + STRATUM_BINARY + "'");
  const auto resume = command.find(" --resume ");
  command.insert(resume, " --set trainer.steps=" + std::to_string(logged_losses(run_directory(stopped)).rbegin()->first + 3));
  const CommandResult resumed = run_command("cd '" + std::string(STRATUM_SOURCE_DIR) + "' && " + command);
  ASSERT_EQ(resumed.exit_code, 0) << command << "\n" << resumed.err;
  EXPECT_THAT(resumed.out + resumed.err, HasSubstr("resumed from "));
  const std::string config = read_file(run_directory(resumed) + "/config.resolved.yaml");
  EXPECT_THAT(config, HasSubstr("lr: 0.002"));
  EXPECT_THAT(config, HasSubstr("no_decay: [\"bias\", \"norm\"]"));
}

TEST(Resume, AStepOfManyMicroBatchesStopsAtTheNextMicroBatchOnSigterm) {
  TempDir dir;
  // One step would take minutes: 65,536 micro-batches.
  const CommandResult r = run_until(std::string("timeout 120 '") + STRATUM_BINARY + "' " + args(dir, 5) +
                                        " --set trainer.grad_accum=65536 --set trainer.batch_size=8",
                                    "ls " + dir.path() + "/*/train.log >/dev/null 2>&1", "sleep 3; kill -TERM $pid");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("stopped after step 0; checkpoint: "));
  const std::string run = run_directory(r);
  const auto state = nlohmann::json::parse(read_file(run + "/checkpoints/step-0/state.json"));
  EXPECT_EQ(state["step"], 0);
  EXPECT_EQ(state["batches"], 0);  // the abandoned step's micro-batches are not counted as consumed
}

TEST(Eval, ACheckpointOfAnotherShapeIsRefusedNamingTheTensor) {
  TempDir dir;
  const CommandResult run = run_stratum(args(dir, 10));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const CommandResult r = run_stratum("eval --config configs/smoke.yaml --set model.hidden=40 --checkpoint " +
                                      run_directory(run) + " --out " + dir.path() + "/eval.json");
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("/model.pt: tensor "));
  EXPECT_THAT(r.err, HasSubstr(" in the checkpoint but [40,"));
  const CommandResult resumed = run_stratum(args(dir, 20) + " --set model.hidden=40 --resume " + run_directory(run));
  EXPECT_EQ(resumed.exit_code, 2);
  EXPECT_THAT(resumed.err, HasSubstr(" in the configured model; resume or evaluate with the config the checkpoint was "
                                     "trained with"));
}

}  // namespace
}  // namespace stratum::testing
