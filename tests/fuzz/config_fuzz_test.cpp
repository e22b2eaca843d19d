// YAML configs: mutants of every shipped config, and of `--set` overrides, either load or are
// refused with a one-line UserError naming the file, line and key.

#include <gtest/gtest.h>

#include <filesystem>

#include "engine/config.h"
#include "engine/slices/slice_grouping.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

const std::vector<std::string> kYamlTokens = {
    "&a ", "*a", "<<: *a\n", "{", "}", "[", "]", ": ", ":", "\n- ", "\n  ", "\n    ", "!!binary ", "!!python/object ",
    "? ", "---\n", "...\n", "'", "\"", "|\n", ">-\n", "#", "%YAML 1.2\n", "~", "null", "extends: base.yaml\n",
    "extends: fuzz.yaml\n", "\t", "data:\n  source: idx\n", "trainer:\n  lr: 0.1\n", "model:\n", "  name: cnn\n",
    "run: {name: x}\n", "- [a, b]\n", "key: value\n", "&anchor\n", "\\u0000", "\"\\x", "@", "`", "%", "!"};

TEST(ConfigFuzz, MutatedShippedConfigsLoadOrNameTheProblem) {
  TempDir dir;
  dir.write("base.yaml", "run: {name: base}\n");
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(STRATUM_SOURCE_DIR) + "/configs")) {
    seeds.push_back(read_file(entry.path().string()));
  }
  ASSERT_GE(seeds.size(), 10u);
  Mutator mutator(20261130, kYamlTokens);
  FuzzTally tally("YAML configs");
  for (int i = 0; i < 2000; ++i) {
    const std::string text = mutator.mutate(seeds[static_cast<size_t>(i) % seeds.size()]);
    const std::string path = dir.write("fuzz.yaml", text);
    tally.run(i, [&] { load_config(path); }, text);
  }
  EXPECT_GT(tally.refused(), 500);  // the mutants are mostly broken: the test exercises the errors
}

TEST(ConfigFuzz, MutatedOverridesLoadOrNameTheOverride) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", read_file(std::string(STRATUM_SOURCE_DIR) + "/configs/smoke.yaml"));
  const std::vector<std::string> overrides = {"trainer.lr=0.001", "data.labels=[a, b]", "model.channels=[8, 16]",
                                              "run.name=x", "data.reservoir={max_items: 100}", "eval.every=3"};
  Mutator mutator(7, kYamlTokens);
  FuzzTally tally("--set overrides");
  for (int i = 0; i < 1000; ++i) {
    const std::string assignment = mutator.mutate(overrides[static_cast<size_t>(i) % overrides.size()]);
    tally.run(i, [&] { load_config(path, {assignment}); }, assignment);
  }
}

TEST(ConfigFuzz, MutatedSliceDefinitionsLoadOrNameTheKey) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", read_file(std::string(STRATUM_SOURCE_DIR) + "/configs/smoke.yaml"));
  const std::vector<std::string> overrides = {
      "eval.slices=[{by: [region, label]}]", "eval.slices=[{by: [time], every: 1d}]",
      "eval.slices=[{by: [feature:3], bins: [0, 1, 2]}]", "eval.slices=[{by: [user.age], buckets: 4, name: age}]",
      "eval.slice_alerts={metric: accuracy, max_gap: 0.05, splits: [validation]}"};
  Mutator mutator(11, kYamlTokens);
  FuzzTally tally("eval.slices overrides");
  for (int i = 0; i < 1000; ++i) {
    const std::string assignment = mutator.mutate(overrides[static_cast<size_t>(i) % overrides.size()]);
    tally.run(i, [&] { check_slice_config(load_config(path, {assignment})); }, assignment);
  }
}

}  // namespace
}  // namespace stratum::testing
