// Evaluation by slice through the binary: a JSONL stream whose "south" region has a third of its
// labels flipped trains a classifier; eval.json ranks south worst with the planted gap inside
// its interval, the alert reaches the log, metrics.jsonl and the report; the same stream without
// flips raises no alert; `stratum eval --slices` slices a finished run without retraining; bad
// slice definitions are one-line errors naming the key, exit 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <random>

#include "integration/training_run.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// 1,800 records: the text names its colour (the label), regions north, south and east in turn,
// a nested user.age and a timestamp ten minutes apart; south's label is flipped with `flip`.
std::string region_stream(const TempDir& dir, const std::string& name, double flip, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const std::vector<std::string> colours = {"red", "blue", "green"}, regions = {"north", "south", "east"};
  std::string lines;
  for (int i = 0; i < 1800; ++i) {
    const size_t colour = rng() % 3;
    const std::string& region = regions[static_cast<size_t>(i) % 3];
    std::string label = colours[colour];
    if (region == "south" && unit(rng) < flip) label = colours[(colour + 1 + rng() % 2) % 3];
    lines += R"({"text": ")" + colours[colour] + " " + colours[colour] + " item " + std::to_string(i) +
             R"(", "label": ")" + label + R"(", "region": ")" + region + R"(", "user": {"age": )" +
             std::to_string(10 + (i * 7) % 80) + R"(}, "ts": )" + std::to_string(1764460800 + i * 600) + "}\n";
  }
  return dir.write(name, lines);
}

std::string slices_config(const TempDir& dir, const std::string& data) {
  return dir.write("slices.yaml", R"(run:
  name: slices
  seed: 3
data:
  source: text
  path: )" + data + R"(
  validation_fraction: 0.3
  text:
    format: jsonl
    max_length: 24
    time_field: ts
  unseen:
    by: none
  drift:
    window: 0
model:
  name: text-classifier
  layers: 1
  width: 32
  heads: 2
  mlp_hidden: 64
trainer:
  steps: 60
  batch_size: 32
  lr: 0.003
eval:
  every: 30
  max_samples: 0
  min_slice_size: 20
  slice_bootstrap: 300
  slices:
    - by: [region]
    - by: [user.age]
      bins: [0, 30, 60, 100]
    - by: [region, label]
    - by: [time]
      every: 1d
  slice_alerts: {metric: accuracy, max_gap: 0.15}
logging:
  every: 10
)");
}

const nlohmann::json& slice_named(const nlohmann::json& eval, const std::string& split, const std::string& name) {
  for (const auto& s : eval["slices"][split]) {
    if (s["name"] == name) return s;
  }
  static const nlohmann::json none;
  ADD_FAILURE() << "no slice " << name << " in " << split;
  return none;
}

TEST(SlicesRun, PlantedBiasIsRankedWorstAndAlertedEverywhere) {
  TempDir dir;
  const RunResult run = train(slices_config(dir, region_stream(dir, "biased.jsonl", 1.0 / 3, 1)), "", dir);
  ASSERT_FALSE(run.run_dir.empty()) << run.out;
  const nlohmann::json& region = slice_named(run.eval, "validation", "region");
  const nlohmann::json& accuracy = region["disparity"]["accuracy"];
  EXPECT_EQ(accuracy["worst"], "south");
  // The model learns the colour from the text: north and east are right, south as often as its
  // labels were left alone (2/3), so the planted gap is about 1/3.
  const double gap = accuracy["difference"].get<double>();
  EXPECT_NEAR(gap, 1.0 / 3, 0.1);
  EXPECT_LE(accuracy["difference_ci95"][0].get<double>(), 1.0 / 3);
  EXPECT_GE(accuracy["difference_ci95"][1].get<double>(), 1.0 / 3);
  ASSERT_EQ(region["alerts"].size(), 1u);
  EXPECT_EQ(region["alerts"][0]["worst"], "south");
  EXPECT_EQ(region["groups"].size(), 3u);
  for (const auto& g : region["groups"]) {
    EXPECT_TRUE(g["ranked"].get<bool>());
    EXPECT_LE(g["accuracy_ci95"][0].get<double>(), g["accuracy"].get<double>());
  }
  // Nested fields, bins, crossings and calendar buckets.
  EXPECT_EQ(slice_named(run.eval, "validation", "user.age")["groups"][0]["slice"], "[0, 30)");
  EXPECT_EQ(slice_named(run.eval, "validation", "region x label")["groups"].size(), 9u);
  EXPECT_EQ(slice_named(run.eval, "validation", "time")["groups"][0]["slice"], "2025-11-30");
  // The log, metrics.jsonl (at the evaluation during training and the final one) and the report.
  EXPECT_THAT(run.out, HasSubstr("ALERT slice alert: validation split, slices by region: accuracy of south vs"));
  int alerts = 0;
  for (const auto& r : json_lines(read_file(run.run_dir + "/metrics.jsonl"))) {
    if (r.value("kind", "") == "event" && r.value("event", "") == "slice_alert" && r.value("slice", "") == "region") {
      ++alerts;
      EXPECT_EQ(r["worst"], "south");
    }
  }
  EXPECT_EQ(alerts, 2);
  const std::string report = read_file(run.run_dir + "/report.html");
  EXPECT_THAT(report, HasSubstr("<h3>validation split by region</h3>"));
  EXPECT_THAT(report, HasSubstr("exceeds eval.slice_alerts.max_gap 0.15"));
  EXPECT_THAT(report, HasSubstr("Slice alerts during training ("));

  // Slicing the finished run again, by another definition, without training (its config is the
  // checkpoint's own).
  const std::string out = dir.path() + "/again.json";
  const CommandResult again =
      run_stratum("eval --checkpoint " + run.run_dir + " --slices '[{by: [label]}, {by: [region]}]' --out " + out);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  const nlohmann::json reevaluated = nlohmann::json::parse(read_file(out));
  EXPECT_EQ(reevaluated["slices"]["validation"].size(), 2u);
  EXPECT_EQ(slice_named(reevaluated, "validation", "region")["disparity"], region["disparity"]);
}

TEST(SlicesRun, UnbiasedStreamsRaiseNoAlert) {
  for (const uint32_t seed : {2u, 3u}) {
    TempDir dir;
    const RunResult run = train(slices_config(dir, region_stream(dir, "clean.jsonl", 0.0, seed)), "", dir);
    ASSERT_FALSE(run.run_dir.empty()) << run.out;
    EXPECT_THAT(run.out, ::testing::Not(HasSubstr("slice alert")));
    for (const auto& s : run.eval["slices"]["validation"]) EXPECT_TRUE(s["alerts"].empty()) << s["name"];
    EXPECT_LT(slice_named(run.eval, "validation", "region")["disparity"]["accuracy"]["difference"].get<double>(), 0.15);
  }
}

TEST(SlicesRun, LanguageModelsAreSlicedByPerplexity) {
  TempDir dir;
  const RunResult run = train(slices_config(dir, region_stream(dir, "lm.jsonl", 0.0, 5)),
                              "--set model.name=gpt-tiny --set model.layers=1 --set model.mlp_hidden=64 "
                              "--set 'eval.slices=[{by: [region]}]' --set eval.slice_alerts.metric=perplexity",
                              dir);
  ASSERT_FALSE(run.run_dir.empty()) << run.out;
  const nlohmann::json& region = slice_named(run.eval, "validation", "region");
  ASSERT_EQ(region["groups"].size(), 3u);
  int64_t sequences = 0;
  for (const auto& g : region["groups"]) {
    sequences += g["count"].get<int64_t>();
    EXPECT_GT(g["tokens"].get<int64_t>(), 0);
    EXPECT_NEAR(g["perplexity"].get<double>(), std::exp(g["loss"].get<double>()), 1e-9);
  }
  EXPECT_EQ(sequences, run.eval["splits"]["validation"]["samples"].get<int64_t>());
  EXPECT_TRUE(region["disparity"].contains("perplexity"));
}

TEST(SlicesRun, BadSliceDefinitionsAreOneLineErrors) {
  TempDir dir;
  const std::string config = slices_config(dir, region_stream(dir, "s.jsonl", 0.0, 4));
  const auto error = [&](const std::string& overrides) {
    const CommandResult r = run_stratum("train --config " + config + " --set run.output_dir=" + dir.path() + " " + overrides);
    EXPECT_EQ(r.exit_code, 2) << overrides << "\n" << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    return r.err;
  };
  EXPECT_THAT(error("--set 'eval.slices=[{by: [city]}]'"),
              HasSubstr("eval.slices[0].by: no record carries the field \"city\""));
  EXPECT_THAT(error("--set 'eval.slices=[{by: [region, region]}]'"),
              HasSubstr("eval.slices[0].by: crosses region with itself"));
  const std::string bins = error("--set 'eval.slices=[{by: [user.age], bins: [20, 60]}]'");
  EXPECT_THAT(bins, HasSubstr("eval.slices[0].bins: user.age value "));
  EXPECT_THAT(bins, HasSubstr(" lies outside the bins [20, 60]"));
  EXPECT_THAT(error("--set 'eval.slices=[{by: region}]'"), HasSubstr("eval.slices[0].by: expected a list"));
  EXPECT_THAT(error("--set eval.slice_alerts.metric=acuracy"), HasSubstr("did you mean accuracy?"));
}

}  // namespace
}  // namespace stratum::testing
