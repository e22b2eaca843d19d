// configs/smoke.yaml end to end through the binary: a real run on Fashion-MNIST whose run
// directory explains itself and whose loss goes down.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/config.h"
#include "integration/stratum_binary.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

TEST(SmokeRun, TrainsAndWritesASelfDescribingRunDirectory) {
  TempDir dir;
  const std::string runs = dir.path() + "/runs";
  const CommandResult r = run_stratum("train --config configs/smoke.yaml --set run.output_dir=" + runs);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  // The last line names the run directory, which lies under the requested root.
  std::istringstream lines(r.out);
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  const std::string prefix = "run directory: ";
  ASSERT_EQ(last.rfind(prefix, 0), 0u) << r.out;
  const std::string run_dir = last.substr(prefix.size());
  EXPECT_EQ(fs::path(run_dir).parent_path(), fs::canonical(runs));
  EXPECT_THAT(r.out, HasSubstr("test accuracy (unseen split: file-backed t10k set): "));

  for (const char* file : {"config.resolved.yaml", "metrics.jsonl", "eval.json", "train.log", "manifest.json",
                           "rejects.jsonl", "reservoirs.json", "report.html"}) {
    EXPECT_TRUE(fs::is_regular_file(fs::path(run_dir) / file)) << file;
  }
  // report.html: self-contained, with the curves, three splits' confusion matrices and the
  // reservoir history of all ten labels, whose final sizes are what the run trained on.
  const std::string report = read_file(run_dir + "/report.html");
  EXPECT_THAT(report, HasSubstr("Training loss"));
  EXPECT_THAT(report, HasSubstr("Reservoir size per label"));
  EXPECT_THAT(report, HasSubstr("T-shirt/top predicted as Shirt"));
  EXPECT_THAT(report, ::testing::Not(HasSubstr("<script")));
  EXPECT_THAT(report, ::testing::Not(HasSubstr("src=\"http")));
  const auto reservoirs = nlohmann::json::parse(read_file(run_dir + "/reservoirs.json"));
  ASSERT_FALSE(reservoirs["history"].empty());
  int64_t kept = 0;
  for (const auto& size : reservoirs["history"].back()["sizes"]) kept += size.get<int64_t>();
  // logging.tensorboard: one event file, holding far more than the version record.
  int event_files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(run_dir) / "tensorboard")) {
    EXPECT_EQ(entry.path().filename().string().rfind("events.out.tfevents.", 0), 0u);
    EXPECT_GT(fs::file_size(entry.path()), 1000u);
    ++event_files;
  }
  EXPECT_EQ(event_files, 1);

  // The resolved config loads back to what the run used.
  const RunConfig resolved = load_config(run_dir + "/config.resolved.yaml");
  const RunConfig used = load_config(std::string(STRATUM_SOURCE_DIR) + "/configs/smoke.yaml",
                                     {"run.output_dir=" + runs});
  EXPECT_TRUE(resolved == used);

  // metrics.jsonl: one JSON object per line; the training loss goes down.
  std::istringstream metrics(read_file(run_dir + "/metrics.jsonl"));
  std::vector<double> losses;
  int eval_records = 0;
  while (std::getline(metrics, line)) {
    const auto record = nlohmann::json::parse(line);
    ASSERT_TRUE(record.contains("step") && record.contains("wall_time")) << line;
    if (record["kind"] == "train") {
      losses.push_back(record["loss"].get<double>());
      EXPECT_GT(record["samples_per_second"].get<double>(), 0.0);
      EXPECT_GT(record["lr"].get<double>(), 0.0);
    }
    eval_records += record["kind"] == "eval";
  }
  ASSERT_GE(losses.size(), 3u);
  EXPECT_LT(losses.back(), 0.75 * losses.front()) << "the loss should go down";
  EXPECT_EQ(eval_records, 3);

  // eval.json holds all three splits with sane numbers.
  const auto eval = nlohmann::json::parse(read_file(run_dir + "/eval.json"));
  for (const char* split : {"seen", "validation", "unseen"}) {
    ASSERT_TRUE(eval["splits"].contains(split)) << split;
    const auto& s = eval["splits"][split];
    EXPECT_GT(s["samples"].get<int>(), 0);
    EXPECT_GT(s["accuracy"].get<double>(), 0.5) << split << ": well above chance (0.1)";
    EXPECT_EQ(s["confusion_matrix"].size(), 10u);
  }
  EXPECT_GT(eval["model"]["parameters"].get<int64_t>(), 0);

  // manifest.json pins the files read and what the reservoirs kept; nothing was rejected.
  const auto manifest = nlohmann::json::parse(read_file(run_dir + "/manifest.json"));
  EXPECT_EQ(manifest["seed"], 1);
  EXPECT_EQ(manifest["files"].size(), 4u);
  int64_t seen = 0, validation = 0;
  for (const auto& count : manifest["label_counts"]["seen"]) seen += count.get<int64_t>();
  for (const auto& count : manifest["label_counts"]["validation"]) validation += count.get<int64_t>();
  EXPECT_EQ(seen + validation, 4000);  // data.max_records
  EXPECT_EQ(kept, seen);
  EXPECT_EQ(manifest["reservoir"]["offered"].get<int64_t>(), seen);  // small enough to keep everything
  EXPECT_EQ(read_file(run_dir + "/rejects.jsonl"), "");
}

TEST(SyntheticDriftRun, RecordsDriftEventsRejectsAndBalancedReservoirs) {
  TempDir dir;
  const CommandResult r = run_stratum("train --config configs/synthetic-drift.yaml --set trainer.epochs=1 "
                                      "--set run.output_dir=" + dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string run_dir = r.out.substr(r.out.rfind("run directory: ") + 15, std::string::npos);
  const std::string path = run_dir.substr(0, run_dir.find('\n'));
  std::istringstream metrics(read_file(path + "/metrics.jsonl"));
  std::string line;
  int drift_events = 0;
  while (std::getline(metrics, line)) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "event" && record["event"] == "drift") {
      ++drift_events;
      EXPECT_GE(record["record"].get<double>(), 14000.0) << "no alert before the shift at 12,000";
    }
  }
  EXPECT_GT(drift_events, 0);
  std::istringstream rejects(read_file(path + "/rejects.jsonl"));
  int rejected = 0;
  while (std::getline(rejects, line)) ++rejected;
  EXPECT_GT(rejected, 50);  // 0.5% of 20,000 records were injected corrupt
  const auto manifest = nlohmann::json::parse(read_file(path + "/manifest.json"));
  EXPECT_EQ(manifest["label_counts"]["seen"][4], 0);  // the held-out class never reaches training
  EXPECT_GT(manifest["label_counts"]["unseen"][4].get<int>(), 0);
  EXPECT_LE(manifest["label_counts"]["seen"][0].get<int>(), 1500);
  // The unseen split holds a class never trained on: eval.json says how well confidence separates it.
  const auto eval = nlohmann::json::parse(read_file(path + "/eval.json"));
  ASSERT_TRUE(eval.contains("open_set"));
  EXPECT_GT(eval["open_set"]["auroc_max_softmax"].get<double>(), 0.0);
  EXPECT_GE(eval["splits"]["seen"]["expected_calibration_error"].get<double>(), 0.0);
}

TEST(SmokeRun, SecondRunGetsItsOwnDirectory) {
  TempDir dir;
  const std::string args = "train --config configs/smoke.yaml --set trainer.steps=2 --set eval.max_samples=64 "
                           "--set run.output_dir=" + dir.path();
  ASSERT_EQ(run_stratum(args).exit_code, 0);
  ASSERT_EQ(run_stratum(args).exit_code, 0);
  int runs = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) runs += entry.is_directory();
  EXPECT_EQ(runs, 2);
}

// With OpenBLAS (the Debian LibTorch) the binary re-executes itself with OpenMP's idle threads
// sleeping (core/thread_environment.h); with another BLAS, or an explicit setting, it does not.
TEST(SmokeRun, OpenMpIdleThreadsSleepWhereOpenBlasIsLoaded) {
  const bool openblas = run_stratum("info").out.find("(OpenBLAS)") != std::string::npos;
  TempDir dir;
  const auto train = [&](const std::string& environment) {
    return run_command(std::string("cd '") + STRATUM_SOURCE_DIR + "' && env " + environment + " '" + STRATUM_BINARY +
                       "' train --config configs/smoke.yaml --set trainer.steps=2 --set trainer.threads=2"
                       " --set eval.max_samples=64 --set run.output_dir=" + dir.path());
  };
  const CommandResult unset = train("-u OMP_WAIT_POLICY");
  ASSERT_EQ(unset.exit_code, 0) << unset.err;
  if (openblas) {
    EXPECT_THAT(unset.out, HasSubstr("intra-op threads: 2, OMP_WAIT_POLICY=PASSIVE"));
  } else {
    EXPECT_THAT(unset.out, ::testing::Not(HasSubstr("OMP_WAIT_POLICY")));
  }
  const CommandResult active = train("OMP_WAIT_POLICY=ACTIVE");
  ASSERT_EQ(active.exit_code, 0) << active.err;
  EXPECT_THAT(active.out, HasSubstr("OMP_WAIT_POLICY=ACTIVE"));
}

}  // namespace
}  // namespace stratum::testing
