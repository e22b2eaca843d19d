// Continuous training through the binary: a killed run resumed from its checkpoint ends with
// the same model as an uninterrupted one, standard input and TCP streams train until they end
// or the run is stopped, the promotion gate keeps promoted/LATEST, and bad input exits 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "integration/checkpoint_tensors.h"
#include "integration/continuous_stream_args.h"
#include "integration/training_run.h"
#include "support/free_port.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

TEST(ContinuousRun, AKilledRunResumesToTheSameModelAsAnUninterruptedOne) {
  TempDir dir;
  const std::string path = dir.write("stream.txt", stream_lines(4000));
  const CommandResult whole = run_stratum(text_args(path, dir));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const std::string a = run_directory(whole);
  EXPECT_THAT(whole.out, HasSubstr("the stream ended"));
  // Test-then-train windows: 200 scored records each, accuracy rising as the model learns.
  const auto windows = records_of(a, "prequential");
  ASSERT_GE(windows.size(), 15u);
  EXPECT_GT(windows.back()["accuracy"].get<double>(), windows.front()["accuracy"].get<double>() + 0.2);
  EXPECT_GT(windows.back()["accuracy"].get<double>(), 0.9);
  EXPECT_TRUE(windows.back().contains("recall/frozen"));

  TempDir killed_dir;
  const std::string command = "exec " + std::string(STRATUM_BINARY) + " " + text_args(path, killed_dir) + " >/dev/null 2>&1";
  const CommandResult killed = run_until(command, "ls " + killed_dir.path() + "/*/checkpoints/step-200/COMMITTED >/dev/null 2>&1",
                                         "kill -9 $pid");
  EXPECT_NE(killed.exit_code, 0);
  std::string b;
  for (const auto& e : fs::directory_iterator(killed_dir.path())) {
    if (e.is_directory()) b = e.path().string();  // not the audit ledger beside the runs
  }
  ASSERT_FALSE(fs::exists(b + "/eval.json")) << "the run finished before it was killed";
  const CommandResult resumed = run_stratum(text_args(path, killed_dir) + " --resume " + b);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const std::string c = run_directory(resumed);
  EXPECT_THAT(resumed.out, HasSubstr("resumed from"));
  // The same records were admitted at the same steps: the same final model, bit for bit.
  const std::string final_a = a + "/checkpoints/step-" + std::to_string(read_json(a + "/eval.json")["step"].get<int64_t>());
  const std::string final_c = c + "/checkpoints/step-" + std::to_string(read_json(c + "/eval.json")["step"].get<int64_t>());
  EXPECT_EQ(final_a.substr(final_a.rfind('/')), final_c.substr(final_c.rfind('/')));
  EXPECT_EQ(largest_difference(final_a, final_c), 0.0);
  // Every rejected line is listed once, across the kill.
  EXPECT_EQ(count_lines(read_file(c + "/rejects.jsonl")), count_lines(read_file(a + "/rejects.jsonl")));
  EXPECT_EQ(count_lines(read_file(a + "/rejects.jsonl")), 8);
}

TEST(ContinuousRun, TrainsFromStandardInputUntilItEnds) {
  TempDir dir;
  const std::string path = dir.write("stream.txt", stream_lines(1500) + std::string(3000, 'x') + "\n");
  const CommandResult r = run_command("cd " STRATUM_SOURCE_DIR " && " STRATUM_BINARY " " + text_args("-", dir) +
                                      " --set data.continuous.records_per_step=0 --set data.continuous.max_line_bytes=1024 < " + path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = run_directory(r);
  EXPECT_FALSE(records_of(run, "prequential").empty());
  const std::string rejects = read_file(run + "/rejects.jsonl");
  EXPECT_THAT(rejects, HasSubstr("line longer than 1024 bytes"));
  EXPECT_THAT(rejects, HasSubstr("unknown label"));
  const auto train = records_of(run, "train");
  ASSERT_FALSE(train.empty());
  EXPECT_EQ(train.back()["stream/read"].get<double>(), train.back()["stream/accepted"].get<double>() + train.back()["stream/rejected"].get<double>());
  EXPECT_TRUE(fs::exists(run + "/eval.json"));
}

TEST(ContinuousRun, PromotesCheckpointsThatBeatTheLastPromotedOne) {
  TempDir dir;
  const CommandResult r = run_stratum(
      "train --config configs/continuous.yaml --set data.synthetic.records=30000 --set data.synthetic.label_shift_at=[15000]"
      " --set data.synthetic.covariate_shift_at=[] --set eval.every=200 --set data.drift.window=2000"
      " --set trainer.checkpoint.every=0 --set logging.every=200 --set run.output_dir=" + dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = run_directory(r);
  const std::string latest = read_file(run + "/promoted/LATEST");
  ASSERT_FALSE(latest.empty());
  const std::string promoted = run + "/promoted/" + latest.substr(0, latest.find('\n'));
  EXPECT_TRUE(fs::exists(promoted + "/COMMITTED")) << promoted;
  const auto promotion = read_json(promoted + "/promotion.json");
  int promotions = 0, refusals = 0, drifts = 0;
  double last = -1;
  for (const auto& e : records_of(run, "event")) {
    const std::string kind = e.value("event", "");
    // Candidate and last promoted model are scored on the same held-out records.
    if (kind == "promotion") {
      ++promotions;
      if (promotions > 1) EXPECT_GE(e["value"].get<double>(), e["previous"].get<double>() + 0.002 - 1e-12);
      last = e["value"].get<double>();
    }
    if (kind == "promotion_refused") {
      ++refusals;
      if (e.value("reason", "").find("regresses") == std::string::npos) {
        EXPECT_LT(e["value"].get<double>(), e["previous"].get<double>() + 0.002) << e.dump();
      }
    }
    drifts += kind == "drift";
  }
  EXPECT_GE(promotions, 2);
  EXPECT_GE(refusals, 1);
  EXPECT_EQ(promotion["value"].get<double>(), last);
  // The label shift raised an alert, and the model from before it was kept.
  EXPECT_GE(drifts, 1);
  EXPECT_FALSE(fs::is_empty(run + "/checkpoints/before-drift"));
}

TEST(ContinuousRun, BadInputExitsTwoNamingTheKey) {
  TempDir dir;
  const std::string base = "train --config configs/continuous.yaml --set run.output_dir=" + dir.path();
  const struct {
    std::string set, expected;
  } cases[] = {
      {"--set data.source=idx --set data.path=/usr/share/datasets/fashion-mnist", "data.source"},
      {"--set trainer.schedule=cosine", "trainer.schedule"},
      {"--set data.source=text --set data.path=/no/such/file --set data.labels=[a,b]", "data.path"},
      {"--set data.source=text --set data.path=- --set data.unseen.by=none", "data.labels"},
      {"--set data.continuous.fresh_share=2", "data.continuous.fresh_share"},
      {"--set continuous.promote.metric=validation.nonsense", "continuous.promote.metric"},
      {"--set data.continuous.min_ready=1000000 --set data.synthetic.records=5000", "data.continuous.min_ready"},
  };
  for (const auto& c : cases) {
    const CommandResult r = run_stratum(base + " " + c.set + " </dev/null");
    EXPECT_EQ(r.exit_code, 2) << c.set << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.expected)) << c.set;
  }
}

TEST(ContinuousRun, APortInUseExitsTwoNamingIt) {
  TempDir dir;
  // The first run holds the port while the second tries it.
  const std::string number = std::to_string(free_port());
  const std::string port = "127.0.0.1:" + number;
  const std::string args = "train --config configs/continuous.yaml --set data.source=text --set data.labels=[a,b]"
                           " --set data.unseen.by=none --set data.continuous.listen=" + port + " --set run.output_dir=" + dir.path();
  const std::string first = "exec " + std::string(STRATUM_BINARY) + " " + args + " >" + dir.path() + "/first.log 2>&1";
  const CommandResult r = run_until(first, "grep -q 'listening on' " + dir.path() + "/first.log",
                                    "cd " STRATUM_SOURCE_DIR " && " STRATUM_BINARY " " + args + " 2> " + dir.path() +
                                        "/second.err; echo $? > " + dir.path() + "/second.rc; kill -TERM $pid");
  (void)r;
  EXPECT_EQ(read_file(dir.path() + "/second.rc"), "2\n");
  EXPECT_THAT(read_file(dir.path() + "/second.err"), HasSubstr(number + ": the port is already in use"));
}

}  // namespace
}  // namespace stratum::testing
