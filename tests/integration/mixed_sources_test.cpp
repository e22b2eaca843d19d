// Several sources in one run through the binary: three JSONL feeds with different label sets
// mixed by weight train one classifier; the manifest, `data inspect` and metrics.jsonl show each
// source's target and achieved share; rejects of every source land in one rejects.jsonl; a
// resumed run repeats the uninterrupted one's losses; bad mixes are one-line errors, exit 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "integration/training_run.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// `count` records of `labels` in turn, line `bad` (1-based) malformed.
std::string feed(const std::string& name, const std::vector<std::string>& labels, int count, int bad) {
  std::string lines;
  for (int i = 0; i < count; ++i) {
    if (i + 1 == bad) {
      lines += "{\"text\": broken\n";
      continue;
    }
    const std::string& label = labels[static_cast<size_t>(i) % labels.size()];
    lines += R"({"text": ")" + name + " says " + label + " " + std::to_string(i * 7) + R"(", "label": ")" + label + "\"}\n";
  }
  return lines;
}

// A config of three feeds sized 600 : 60 : 12 with weights 0.5 / 0.3 / 0.2.
std::string mix_config(const TempDir& dir, const std::string& extra = "") {
  dir.write("a.jsonl", feed("news", {"x", "y"}, 600, 17));
  dir.write("b.jsonl", feed("forum", {"y", "z"}, 60, -1));
  dir.write("c.jsonl", feed("logs", {"w"}, 12, 3));
  return dir.write("mix.yaml", R"(run:
  name: mix
  output_dir: )" + dir.path() + R"(/runs
  seed: 5
data:
  validation_fraction: 0.1
  max_reject_fraction: 0.2
  text:
    format: jsonl
    max_length: 32
  unseen:
    by: none
  drift:
    window: 0
  sources:
    - {name: news, source: text, path: )" + dir.path() + R"(/a.jsonl, weight: 0.5}
    - {name: forum, source: text, path: )" + dir.path() + R"(/b.jsonl, weight: 0.3}
    - {name: logs, source: text, path: )" + dir.path() + R"(/c.jsonl, weight: 0.2}
)" + extra + R"(model:
  name: text-classifier
  layers: 1
  width: 32
  heads: 2
  mlp_hidden: 64
trainer:
  steps: 30
  batch_size: 20
  lr: 0.003
  threads: 2
  checkpoint:
    every: 10
    keep_last: 5
    best_metric: ""
eval:
  every: 0
  max_samples: 200
logging:
  every: 1
)");
}

TEST(MixedSources, ThreeFeedsTrainOneClassifierAtTheirSharesAndResumeExactly) {
  TempDir dir;
  const std::string config = mix_config(dir);
  const CommandResult inspect = run_stratum("data inspect --config " + config);
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_THAT(inspect.out, HasSubstr("source            weight   share first epoch"));
  EXPECT_THAT(inspect.out, HasSubstr("logs                 0.2   20.0%"));

  const CommandResult run = run_stratum("train --config " + config);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.err + run.out, HasSubstr("data: source logs has 11 seen examples for"));  // it repeats
  const std::string run_dir = run_directory(run);
  const auto manifest = nlohmann::json::parse(read_file(run_dir + "/manifest.json"));
  // One label vocabulary: the union in order of first appearance.
  EXPECT_EQ(manifest["class_names"], nlohmann::json({"x", "y", "z", "w"}));
  ASSERT_EQ(manifest["sources"].size(), 3u);
  int64_t read = 0, rejected = 0;
  for (const auto& s : manifest["sources"]) {
    EXPECT_EQ(s["records_read"].get<int64_t>(), s["records_accepted"].get<int64_t>() + s["records_rejected"].get<int64_t>());
    read += s["records_read"].get<int64_t>();
    rejected += s["records_rejected"].get<int64_t>();
    EXPECT_EQ(s["files"].size(), 1u);
    EXPECT_EQ(s["files"][0]["sha256"].get<std::string>().size(), 64u);
  }
  EXPECT_EQ(read, 672);
  EXPECT_EQ(rejected, 2);
  EXPECT_EQ(manifest["records_read"], 672);
  EXPECT_DOUBLE_EQ(manifest["sources"][1]["target_share"].get<double>(), 0.3);
  EXPECT_EQ(manifest["sources"][1]["label_counts"]["seen"].size(), 2u);  // y and z, by name
  // Both sources' rejects in the one file, each naming its file.
  const auto rejects = json_lines(read_file(run_dir + "/rejects.jsonl"));
  ASSERT_EQ(rejects.size(), 2u);
  EXPECT_EQ(fs::path(rejects[0]["source"].get<std::string>()).filename(), "a.jsonl");
  EXPECT_EQ(fs::path(rejects[1]["source"].get<std::string>()).filename(), "c.jsonl");
  // Achieved shares of the 600 examples trained on, and the tiny source's passes.
  nlohmann::json last;
  for (const auto& line : json_lines(read_file(run_dir + "/metrics.jsonl"))) {
    if (line["kind"] == "train") last = line;
  }
  EXPECT_NEAR(last["mix/news/share"].get<double>(), 0.5, 0.005);
  EXPECT_NEAR(last["mix/forum/share"].get<double>(), 0.3, 0.005);
  EXPECT_NEAR(last["mix/logs/share"].get<double>(), 0.2, 0.005);
  EXPECT_GT(last["mix/logs/passes"].get<double>(), 10);  // 120 draws from 11 examples
  // The model's evaluation covers every source's validation records, labels from all feeds.
  const auto eval = nlohmann::json::parse(read_file(run_dir + "/eval.json"));
  EXPECT_GT(eval["splits"]["validation"]["samples"].get<int64_t>(), 50);

  // The report lists the sources with their target and achieved shares.
  const std::string report = read_file(run_dir + "/report.html");
  EXPECT_THAT(report, HasSubstr("<h3>Sources</h3>"));
  EXPECT_THAT(report, HasSubstr("<tr><td>forum</td>"));
  EXPECT_THAT(report, HasSubstr("<td>30%</td>"));

  // Resume from step 10: the same draws, the same losses.
  const CommandResult resumed = run_stratum("train --config " + config + " --resume " + run_dir + "/checkpoints/step-10");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto expected = logged_losses(run_dir), got = logged_losses(run_directory(resumed));
  ASSERT_EQ(got.size(), 20u);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;
}

TEST(MixedSources, BadMixesAreOneLineErrorsNamingTheKey) {
  TempDir dir;
  const std::string config = mix_config(dir);
  const auto error_of = [&](const std::string& sets) {
    const CommandResult r = run_stratum("train --config " + config + " " + sets);
    EXPECT_EQ(r.exit_code, 2) << sets << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    return r.err;
  };
  EXPECT_THAT(error_of("--set data.source=text"), HasSubstr("data.source: set either data.source (one source) or data.sources"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, weight: -1}]'"),
              HasSubstr("data.sources[0].weight: expected a number >= 0, got \"-1\""));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, weight: 0, path: x}, {name: b, source: text, weight: 0, path: y}]'"),
              HasSubstr("every weight is 0"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: txt}]'"), HasSubstr("data.sources[0].source: unknown data source \"txt\""));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, path: p}, {name: a, source: text, path: q}]'"),
              HasSubstr("data.sources[1].name: \"a\" names two sources"));
  EXPECT_THAT(error_of("--set 'data.sources=[{source: text, path: p}]'"), HasSubstr("data.sources[0].name: missing required key"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, path: p, wieght: 2}]'"),
              HasSubstr("data.sources[0].wieght: unknown key (did you mean weight?)"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, path: " + dir.path() + "/none/*.jsonl}]'"),
              HasSubstr("data.sources[0].path: " + dir.path() + "/none/*.jsonl: the pattern matches no files (source a)"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, path: " + dir.path() + "/a.jsonl}, "
                       "{name: b, source: text, path: " + dir.path() + "/b.jsonl, text: {max_length: 16}}]'"),
              HasSubstr("data.sources[1] (b): its examples are 16 tokens, data.sources[0]'s are 32 tokens"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: text, path: p, min_share: 0.7}, {name: b, source: text, path: q, min_share: 0.6}]'"),
              HasSubstr("min_share values add up to 1.3"));
  EXPECT_THAT(error_of("--set 'data.sources=[{name: a, source: token_shards, path: p}]'"),
              HasSubstr("data.sources[0].source: token shards cannot be mixed"));
  EXPECT_THAT(error_of("--set data.sources=3"), HasSubstr("data.sources: expected a list of sections, got \"3\""));
}

}  // namespace
}  // namespace stratum::testing
