// Experiments through the binary: early stopping, the weight average (resumed exactly,
// evaluated and exported), sweeps that survive being killed, comparison pages, the
// learning-rate range test, and the bad input each refuses before any run starts.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "integration/training_run.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

std::string smoke(const TempDir& dir, const std::string& extra) {
  return "train --config configs/smoke.yaml --set data.max_records=2000 --set eval.max_samples=200"
         " --set run.output_dir=" + dir.path() + " " + extra;
}

nlohmann::json eval_of(const std::string& run_dir) { return nlohmann::json::parse(read_file(run_dir + "/eval.json")); }

TEST(EarlyStoppingRun, StopsAfterPatienceAndEvaluatesTheBestWeights) {
  TempDir dir;
  // min_delta larger than any loss: only the first evaluation counts as an improvement.
  const CommandResult r = run_stratum(smoke(dir, "--set eval.every=10 --set trainer.early_stopping.metric=validation.loss "
                                                 "--set trainer.early_stopping.patience=2 "
                                                 "--set trainer.early_stopping.min_delta=100"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("early stopping at step 30 of 300: validation.loss has not improved by more than 100 for "
                               "2 evaluations (best "));
  const std::string run = run_directory(r);
  const nlohmann::json eval = eval_of(run);
  EXPECT_EQ(eval["weights"]["evaluated"], "best");
  EXPECT_EQ(eval["weights"]["step"], 10);
  EXPECT_EQ(eval["weights"]["early_stopping"]["stopped"], true);
  EXPECT_EQ(eval["weights"]["early_stopping"]["stopped_at_step"], 30);
  EXPECT_EQ(eval["step"], 30);
  EXPECT_EQ(logged_losses(run).rbegin()->first, 30);
  EXPECT_TRUE(fs::exists(run + "/checkpoints/best/step-10/COMMITTED"));
  // The final evaluation is the step-10 weights' again: the same validation loss as then.
  double at_10 = -1;
  for (const nlohmann::json& m : json_lines(read_file(run + "/metrics.jsonl"))) {
    if (m["kind"] == "eval" && m["step"] == 10 && m["split"] == "validation") at_10 = m["loss"].get<double>();
  }
  EXPECT_DOUBLE_EQ(eval["splits"]["validation"]["loss"].get<double>(), at_10);
  // The best copy is a checkpoint like any other: stratum eval takes the folder.
  const CommandResult best = run_stratum("eval --checkpoint " + run + "/checkpoints/best --out " + dir.path() + "/best.json");
  ASSERT_EQ(best.exit_code, 0) << best.err;
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(read_file(dir.path() + "/best.json"))["splits"]["validation"]["loss"].get<double>(),
                   at_10);
  // predictions.json pairs examples with outcomes for comparisons.
  const nlohmann::json predictions = nlohmann::json::parse(read_file(run + "/predictions.json"));
  EXPECT_EQ(predictions["splits"]["validation"]["predicted"].size(), 200u);
}

TEST(WeightAverageRun, ResumesExactlyAndIsEvaluatedAndExported) {
  TempDir dir;
  const std::string args = smoke(dir, "--set trainer.steps=30 --set trainer.ema.decay=0.95 --set model.dropout=0.2 "
                                       "--set trainer.checkpoint.every=10 --set trainer.checkpoint.keep_last=5");
  const CommandResult full = run_stratum(args);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  const std::string a = run_directory(full);
  const CommandResult resumed = run_stratum(args + " --resume " + a + "/checkpoints/step-10");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const nlohmann::json eval_a = eval_of(a), eval_b = eval_of(run_directory(resumed));
  EXPECT_EQ(eval_a["weights"]["evaluated"], "ema");
  EXPECT_TRUE(eval_a["weights"]["raw"]["validation"].contains("accuracy"));
  // The average resumed from ema.pt: the final (averaged) evaluation is the same to the bit.
  for (const char* split : {"seen", "validation", "unseen"}) {
    nlohmann::json a_split = eval_a["splits"][split], b_split = eval_b["splits"][split];
    a_split.erase("cost");  // timings
    b_split.erase("cost");
    EXPECT_EQ(a_split, b_split) << split;
  }
  EXPECT_EQ(eval_a["weights"]["raw"], eval_b["weights"]["raw"]);
  // stratum eval --ema scores the same weights the run's final evaluation did.
  const CommandResult averaged = run_stratum("eval --ema --checkpoint " + a + " --out " + dir.path() + "/ema-eval.json");
  ASSERT_EQ(averaged.exit_code, 0) << averaged.err;
  const nlohmann::json again = nlohmann::json::parse(read_file(dir.path() + "/ema-eval.json"));
  EXPECT_EQ(again["splits"]["validation"]["accuracy"], eval_a["splits"]["validation"]["accuracy"]);
  EXPECT_EQ(again["splits"]["unseen"]["loss"], eval_a["splits"]["unseen"]["loss"]);
  // Exported with and without --ema: different weights.
  const CommandResult raw_export = run_stratum("export --checkpoint " + a + " --out " + dir.path() + "/raw.safetensors");
  const CommandResult ema_export = run_stratum("export --ema --checkpoint " + a + " --out " + dir.path() + "/ema.safetensors");
  ASSERT_EQ(raw_export.exit_code, 0) << raw_export.err;
  ASSERT_EQ(ema_export.exit_code, 0) << ema_export.err;
  EXPECT_NE(read_file(dir.path() + "/raw.safetensors"), read_file(dir.path() + "/ema.safetensors"));
  // A checkpoint without an average says so.
  const CommandResult plain = run_stratum(smoke(dir, "--set trainer.steps=5"));
  const CommandResult missing = run_stratum("export --ema --checkpoint " + run_directory(plain) + " --out " + dir.path() + "/x");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("--ema: the checkpoint has no ema.pt (it was trained without trainer.ema)"));
}

std::string sweep_command(const TempDir& dir) {
  return "sweep --config configs/smoke.yaml --out " + dir.path() + "/sweep --set data.max_records=2000"
         " --set eval.max_samples=200 --set trainer.checkpoint.every=10 --set trainer.ema.decay=0.9 --set logging.every=10"
         " --grid trainer.steps=[20,100] --ablate trainer.ema --parallel 2";
}

// Killed (SIGKILL) once two runs have finished and a longer one is past a checkpoint, the same
// command finishes the sweep: finished runs are not run again, the interrupted ones resume from
// their checkpoints.
TEST(Sweep, SurvivesBeingKilledAndResumesUnfinishedRuns) {
  TempDir dir;
  const std::string state = dir.path() + "/sweep/sweep.json";
  const CommandResult killed = run_until(
      "'" + std::string(STRATUM_BINARY) + "' " + sweep_command(dir) + " > /dev/null 2>&1",
      "test \"$(grep -c '\"state\": \"finished\"' " + state + " 2>/dev/null)\" -ge 2 && ls -d " + dir.path() +
          "/sweep/runs/003-*/checkpoints/step-30 > /dev/null 2>&1",
      "kill -9 $pid");
  (void)killed;
  const nlohmann::json before = nlohmann::json::parse(read_file(state));
  ASSERT_EQ(before["runs"].size(), 4u);
  EXPECT_EQ(before["runs"][0]["state"], "finished");
  EXPECT_EQ(before["runs"][1]["state"], "finished");
  EXPECT_EQ(before["runs"][2]["state"], "running");  // its exit was never seen

  const CommandResult rerun = run_stratum(sweep_command(dir));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.out << rerun.err;
  const nlohmann::json after = nlohmann::json::parse(read_file(state));
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(after["runs"][i]["state"], "finished") << i;
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(after["runs"][i]["attempts"].size(), 1u) << "finished run " << i << " ran again";
    EXPECT_EQ(after["runs"][i]["run_dir"], before["runs"][i]["run_dir"]);
  }
  const nlohmann::json& resumed = after["runs"][2];
  ASSERT_EQ(resumed["attempts"].size(), 2u);
  EXPECT_EQ(resumed["attempts"][1]["resumed"], true);
  EXPECT_GE(logged_losses(resumed["run_dir"].get<std::string>()).begin()->first, 31);
  EXPECT_EQ(eval_of(resumed["run_dir"].get<std::string>())["step"], 100);
  EXPECT_EQ(after["runs"][3]["id"], "004-steps_100-no-ema");
  // One results row per run, with its varied keys and held-out metrics.
  const std::string csv = read_file(dir.path() + "/sweep/results.csv");
  EXPECT_EQ(count_lines(csv), 5);
  EXPECT_THAT(csv, HasSubstr("trainer.steps,trainer.ema.decay"));
  EXPECT_THAT(csv, HasSubstr("validation.accuracy"));
  EXPECT_THAT(rerun.out, HasSubstr("results: "));

  // The comparison page of the sweep: every finished run, intervals from predictions.json,
  // only the keys that differ.
  const CommandResult compared = run_stratum("compare " + dir.path() + "/sweep");
  ASSERT_EQ(compared.exit_code, 0) << compared.err;
  const std::string html = read_file(dir.path() + "/sweep/compare.html");
  EXPECT_THAT(html, HasSubstr("Comparison of 4 runs"));
  EXPECT_THAT(html, HasSubstr("<td>trainer.steps</td>"));
  EXPECT_THAT(html, HasSubstr("<td>trainer.ema.decay</td>"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("<td>trainer.lr</td>")));
  EXPECT_THAT(html, HasSubstr("same files and splits"));
  EXPECT_THAT(html, HasSubstr("<span class=\"note\">["));  // a bootstrap interval
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(Sweep, RefusesBadPlansBeforeAnyRunStarts) {
  TempDir dir;
  const auto refuse = [&](const std::string& flags, const std::string& message) {
    const CommandResult r = run_stratum("sweep --config configs/smoke.yaml --out " + dir.path() + "/s " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.out << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << flags;
    EXPECT_FALSE(fs::exists(dir.path() + "/s")) << flags;
  };
  refuse("--grid trainer.lrr=[1,2]", "error: --grid trainer.lrr: not a config key (did you mean trainer.lr?)");
  refuse("--grid trainer.lr=[fast,0.1]", "--set trainer.lr=fast");
  refuse("--grid 'trainer.lr=[]'", "no values");
  refuse("--seeds 1", "nothing to sweep");
  refuse("--grid trainer.lr=[0.1,0.2] --parallel 0", "--parallel");
  // A run whose config fails preflight stops the whole sweep before it starts.
  refuse("--grid trainer.early_stopping.metric=[validation.loss,validation.accuracy]",
         "trainer.early_stopping.metric: needs evaluations during training");
}

TEST(ExperimentOptions, MisconfigurationsNameTheKeyBeforeAnyDataIsRead) {
  TempDir dir;
  const auto refuse = [&](const std::string& sets, const std::string& message) {
    const CommandResult r = run_stratum("train --config configs/smoke.yaml --set run.output_dir=" + dir.path() + " " + sets);
    EXPECT_EQ(r.exit_code, 2) << sets << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << sets;
  };
  refuse("--set trainer.early_stopping.metric=validation.loss",
         "trainer.early_stopping.metric: needs evaluations during training: set eval.every");
  refuse("--set trainer.early_stopping.metric=validation.speed --set eval.every=10",
         "trainer.early_stopping.metric: expected SPLIT.METRIC");
  refuse("--set trainer.early_stopping.metric=validation.loss --set eval.every=10 --set distributed.tensor_parallel=2",
         "trainer.early_stopping.restore_best: the best weights are not kept for a model split over processes");
  refuse("--set trainer.ema.decay=0.99 --set distributed.tensor_parallel=2", "trainer.ema.decay: the weight average is not kept");
  refuse("--set trainer.ema.decay=1.5", "trainer.ema.decay");
  refuse("--set trainer.schedule=range_test --set trainer.min_lr_ratio=0", "trainer.min_lr_ratio: range_test rises from");
  refuse("--set trainer.early_stopping.mode=sideways", "trainer.early_stopping.mode");
}

TEST(Compare, RefusesRunsWithNothingInCommon) {
  TempDir dir;
  fs::create_directories(dir.path() + "/a");
  fs::create_directories(dir.path() + "/b");
  dir.write("a/eval.json", R"({"step": 5, "splits": {"validation": {"samples": 10, "loss": 1.0, "accuracy": 0.5}}})");
  dir.write("b/eval.json", R"({"step": 5, "splits": {"validation": {"samples": 10, "loss": 3.0, "perplexity": 20.1}}})");
  const CommandResult r = run_stratum("compare " + dir.path() + "/a " + dir.path() + "/b --out " + dir.path() + "/c.html");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("have nothing in common: one is a language model, the other a classifier"));
  const CommandResult one = run_stratum("compare " + dir.path() + "/a");
  EXPECT_EQ(one.exit_code, 2);
  EXPECT_THAT(one.err, HasSubstr("needs at least two runs"));
  // Fields of the wrong type anywhere in a run's files are read as absent, never a crash.
  fs::create_directories(dir.path() + "/c");
  dir.write("c/eval.json", R"({"step": "x", "weights": {"evaluated": 5}, "model": [], "splits": {"validation":
    {"samples": 10, "loss": "low", "accuracy": 0.6}, "unseen": 3}})");
  dir.write("c/metrics.jsonl", "{\"kind\": 3}\n{\"kind\": \"eval\", \"split\": 7, \"step\": 1}\n[1]\n");
  dir.write("c/manifest.json", R"({"source": 5, "files": [1, "x"], "label_counts": 2})");
  dir.write("c/predictions.json", R"({"format": 1, "splits": {"validation": 4}})");
  const CommandResult hostile = run_stratum("compare " + dir.path() + "/a " + dir.path() + "/c --out " + dir.path() + "/h.html");
  EXPECT_EQ(hostile.exit_code, 2) << hostile.err;  // the predictions file is refused, naming it
  EXPECT_THAT(hostile.err, HasSubstr("c/predictions.json: corrupt predictions"));
  fs::remove(dir.path() + "/c/predictions.json");
  const CommandResult odd = run_stratum("compare " + dir.path() + "/a " + dir.path() + "/c --out " + dir.path() + "/h.html");
  EXPECT_EQ(odd.exit_code, 0) << odd.err;
  fs::create_directories(dir.path() + "/s");
  dir.write("s/sweep.json", R"({"format": "one", "runs": []})");
  const CommandResult sweep = run_stratum("compare " + dir.path() + "/s");
  EXPECT_EQ(sweep.exit_code, 2) << sweep.err;
  EXPECT_THAT(sweep.err, HasSubstr("s/sweep.json: not a sweep.json"));
  const CommandResult missing = run_stratum("compare " + dir.path() + "/a " + dir.path() + "/nope");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_FALSE(fs::exists(dir.path() + "/c.html"));
}

TEST(LrFind, RunsTheRangeTestAndSuggestsARate) {
  TempDir dir;
  const CommandResult r = run_stratum("lr-find --config configs/smoke.yaml --set data.max_records=2000 --steps 60 "
                                      "--min-lr 1e-5 --max-lr 10 --out " + dir.path() + "/lr");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("steepest descent at lr"));
  const nlohmann::json result = nlohmann::json::parse(read_file(dir.path() + "/lr/lr_find.json"));
  const double suggested = result["suggested_lr"].get<double>();
  EXPECT_GT(suggested, 1e-5);
  EXPECT_LT(suggested, 10);
  EXPECT_GE(result["points"].size(), 10u);
  EXPECT_THAT(read_file(dir.path() + "/lr/lr_find.svg"), HasSubstr("<svg xmlns"));
  const CommandResult bad = run_stratum("lr-find --config configs/smoke.yaml --min-lr 1 --max-lr 0.1");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--min-lr must be below --max-lr"));
}

}  // namespace
}  // namespace stratum::testing
