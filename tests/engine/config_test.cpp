#include "engine/config.h"

#include <filesystem>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

const char* kValid = R"(run:
  name: test
  seed: 7
data:
  source: idx
  path: /usr/share/datasets/fashion-mnist
model:
  name: cnn
  channels: [8, 16]
trainer:
  lr: 0.003
  batch_size: 32
)";

// The message of the UserError that loading `path` throws ("" when it loads).
std::string load_error(const std::string& path, const std::vector<std::string>& overrides = {}) {
  const std::string message = testing::user_error([&] { load_config(path, overrides); });
  EXPECT_EQ(message.find('\n'), std::string::npos) << "error messages are one line: " << message;
  return message;
}

TEST(Config, LoadsTypedValuesAndKeepsDefaults) {
  TempDir dir;
  const RunConfig c = load_config(dir.write("c.yaml", kValid));
  EXPECT_EQ(c.run.name, "test");
  EXPECT_EQ(c.run.seed, 7);
  EXPECT_EQ(c.data.source, "idx");
  EXPECT_EQ(c.model.channels, (std::vector<int64_t>{8, 16}));
  EXPECT_DOUBLE_EQ(c.trainer.lr, 0.003);
  EXPECT_EQ(c.trainer.batch_size, 32);
  EXPECT_EQ(c.trainer.optimizer, OptimizerKind::adamw);  // default
  EXPECT_EQ(c.trainer.checkpoint.keep_last, 2);
}

TEST(Config, WrongTypeNamesFileLineColumnAndKey) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "data:\n  source: idx\nmodel:\n  name: cnn\ntrainer:\n  lr: fast\n");
  EXPECT_EQ(load_error(path), path + ":6:3: trainer.lr: expected a positive number, got \"fast\"");
}

TEST(Config, OutOfRangeValue) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainer:\n  batch_size: 0\n");
  EXPECT_EQ(load_error(path), path + ":4:3: trainer.batch_size: expected an integer in [1, 16777216], got \"0\"");
}

TEST(Config, NonIntegerForIntegerField) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainer:\n  steps: 2.5\n");
  EXPECT_THAT(load_error(path), HasSubstr("trainer.steps: expected an integer in [0, 1000000000000], got \"2.5\""));
}

TEST(Config, UnknownKeySuggestsNearestValidKey) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainer:\n  lrr: 0.1\n");
  EXPECT_EQ(load_error(path), path + ":4:3: trainer.lrr: unknown key (did you mean lr?)");
}

TEST(Config, UnknownTopLevelSection) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainr:\n  lr: 0.1\n");
  EXPECT_EQ(load_error(path), path + ":3:1: trainr: unknown key (did you mean trainer?)");
}

TEST(Config, WordOutsideChoicesSuggestsNearest) {
  TempDir dir;
  const std::string path =
      dir.write("c.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainer:\n  optimizer: adamm\n");
  EXPECT_EQ(load_error(path),
            path + ":4:3: trainer.optimizer: expected one of: adamw, sgd, got \"adamm\" (did you mean adamw?)");
}

TEST(Config, BooleanAndListTypes) {
  TempDir dir;
  EXPECT_THAT(load_error(dir.write("a.yaml", "data: {source: idx}\nmodel: {name: cnn}\nlogging: {tensorboard: maybe}\n")),
              HasSubstr("logging.tensorboard: expected true or false, got \"maybe\""));
  EXPECT_THAT(load_error(dir.write("b.yaml", "data: {source: idx}\nmodel: {name: cnn, channels: 5}\n")),
              HasSubstr("model.channels: expected a list (each an integer in [1, 65536]), got \"5\""));
  EXPECT_THAT(load_error(dir.write("c.yaml", "data: {source: idx}\nmodel: {name: cnn, channels: [8, x]}\n")),
              HasSubstr("model.channels: item 1: expected an integer in [1, 65536], got \"x\""));
  EXPECT_THAT(load_error(dir.write("d.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainer: 5\n")),
              HasSubstr("trainer: expected a section (a mapping of keys), got \"5\""));
}

TEST(Config, MissingRequiredKey) {
  TempDir dir;
  const std::string in_section = dir.write("a.yaml", "data:\n  source: idx\nmodel:\n  hidden: 8\n");
  EXPECT_EQ(load_error(in_section), in_section + ":3:1: model.name: missing required key");
  const std::string no_section = dir.write("b.yaml", "data:\n  source: idx\n");
  EXPECT_EQ(load_error(no_section), no_section + ": model.name: missing required key");
}

TEST(Config, UnreadableFile) {
  TempDir dir;
  const std::string path = dir.path() + "/missing.yaml";
  EXPECT_EQ(load_error(path), path + ": cannot read config file: No such file or directory");
  EXPECT_EQ(load_error(dir.path()), dir.path() + ": cannot read config file: is a directory");
}

TEST(Config, MalformedYamlNamesLine) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "data:\n  source: idx\nmodel: [unclosed\n");
  EXPECT_THAT(load_error(path), HasSubstr(path + ":"));
  EXPECT_THAT(load_error(path), HasSubstr("malformed YAML"));
  const std::string scalar = dir.write("s.yaml", "just a string\n");
  EXPECT_THAT(load_error(scalar), HasSubstr("expected a mapping of sections at the top level"));
}

TEST(Config, ExtendsMergesDeeplyWithRelativePaths) {
  TempDir dir;
  dir.write("base/common.yaml", kValid);
  const std::string child = dir.write("child.yaml", "extends: base/common.yaml\ntrainer:\n  lr: 0.01\n");
  const RunConfig c = load_config(child);
  EXPECT_DOUBLE_EQ(c.trainer.lr, 0.01);      // from the child
  EXPECT_EQ(c.trainer.batch_size, 32);       // kept from the base's trainer section
  EXPECT_EQ(c.model.name, "cnn");            // base only
}

TEST(Config, ErrorsInBaseFileNameTheBaseFile) {
  TempDir dir;
  const std::string base = dir.write("base.yaml", "data: {source: idx}\nmodel: {name: cnn}\ntrainer:\n  lr: -1\n");
  const std::string child = dir.write("child.yaml", "extends: base.yaml\nrun: {name: x}\n");
  EXPECT_EQ(load_error(child), base + ":4:3: trainer.lr: expected a positive number, got \"-1\"");
}

TEST(Config, ExtendsCycleIsDetected) {
  TempDir dir;
  dir.write("a.yaml", "extends: b.yaml\n");
  dir.write("b.yaml", "extends: a.yaml\n");
  EXPECT_THAT(load_error(dir.path() + "/a.yaml"), HasSubstr("extends cycle: a.yaml -> b.yaml -> a.yaml"));
  const std::string self = dir.write("self.yaml", "extends: self.yaml\n");
  EXPECT_THAT(load_error(self), HasSubstr("extends cycle"));
}

TEST(Config, ExtendsMissingBase) {
  TempDir dir;
  const std::string child = dir.write("child.yaml", "extends: nowhere.yaml\n");
  EXPECT_THAT(load_error(child), HasSubstr(child + ":1:10: extends: cannot read config file"));
}

TEST(Config, SetOverridesValuesSectionsAndLists) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", kValid);
  const RunConfig c = load_config(path, {"trainer.lr=0.5", "model.channels=[4, 4, 4]", "eval.every=10",
                                         "trainer.lr=0.25"});
  EXPECT_DOUBLE_EQ(c.trainer.lr, 0.25);  // later overrides win
  EXPECT_EQ(c.model.channels, (std::vector<int64_t>{4, 4, 4}));
  EXPECT_EQ(c.eval.every, 10);  // section absent from the file
}

TEST(Config, SetErrorsNameTheOverride) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", kValid);
  EXPECT_EQ(load_error(path, {"trainer.lr=fast"}),
            "--set trainer.lr=fast: trainer.lr: expected a positive number, got \"fast\"");
  EXPECT_EQ(load_error(path, {"trainer.lrr=1"}), "--set trainer.lrr=1: trainer.lrr: unknown key (did you mean lr?)");
  EXPECT_THAT(load_error(path, {"trainer.lr"}), HasSubstr("--set trainer.lr: expected KEY=VALUE"));
  EXPECT_THAT(load_error(path, {"trainer..lr=1"}), HasSubstr("malformed key"));
  EXPECT_THAT(load_error(path, {"trainer.lr.x=1"}), HasSubstr("trainer.lr is a value, not a section"));
}

TEST(Config, ResolvedDumpRoundTripsToEqualStructs) {
  TempDir dir;
  const RunConfig original =
      load_config(dir.write("c.yaml", kValid), {"trainer.lr=0.1", "adapters.lora.targets=[a, \"b c\"]",
                                                "trainer.eps=1e-10", "run.name=\"123\""});
  const std::string dumped = dump_config(original);
  const RunConfig reloaded = load_config(dir.write("resolved.yaml", dumped));
  EXPECT_TRUE(reloaded == original) << dumped;
  EXPECT_EQ(dump_config(reloaded), dumped);

  RunConfig changed = reloaded;
  changed.trainer.eps = 2e-10;
  EXPECT_TRUE(changed != original);
}

// data.sources entries start from the data section's settings; the resolved dump spells every
// entry out and reads back equal; errors inside an entry name it by index and line.
TEST(Config, SourceListsInheritTheDataSectionAndRoundTrip) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", R"(data:
  text: {format: jsonl, max_length: 64}
  unseen: {by: none}
  sources:
    - name: a
      source: text
      path: a.jsonl
      weight: 2
    - name: b
      source: text
      path: b.jsonl.zst
      text: {max_length: 32}
      unseen: {by: time, after: 5}
model: {name: cnn}
)");
  const RunConfig c = load_config(path);
  ASSERT_EQ(c.data.sources.size(), 2u);
  EXPECT_EQ(c.data.sources[0].text.format, data::TextFormat::jsonl);
  EXPECT_EQ(c.data.sources[0].text.max_length, 64);
  EXPECT_EQ(c.data.sources[1].text.format, data::TextFormat::jsonl);  // inherited, with its own length
  EXPECT_EQ(c.data.sources[1].text.max_length, 32);
  EXPECT_EQ(c.data.sources[1].unseen.by, data::UnseenBy::time);
  EXPECT_DOUBLE_EQ(c.data.sources[0].weight, 2);
  EXPECT_DOUBLE_EQ(c.data.sources[1].weight, 1);  // default
  const data::DataOptions b = c.data.for_source(c.data.sources[1]);
  EXPECT_EQ(b.path, "b.jsonl.zst");
  EXPECT_TRUE(b.sources.empty());
  const std::string dumped = dump_config(c);
  const RunConfig reloaded = load_config(dir.write("resolved.yaml", dumped));
  EXPECT_TRUE(reloaded == c) << dumped;
  RunConfig changed = reloaded;
  changed.data.sources[1].weight = 3;
  EXPECT_TRUE(changed != c);

  const std::string bad = dir.write("bad.yaml", "data:\n  sources:\n    - name: a\n      source: text\n    - name: b\n      weight: lots\nmodel: {name: cnn}\n");
  EXPECT_EQ(load_error(bad), bad + ":6:7: data.sources[1].weight: expected a number >= 0, got \"lots\"");
  const std::string scalar = dir.write("scalar.yaml", "data:\n  sources: [a]\nmodel: {name: cnn}\n");
  EXPECT_EQ(load_error(scalar), scalar + ":2:13: data.sources[0]: expected a section (a mapping of keys), got \"a\"");
  EXPECT_THAT(config_reference(), HasSubstr("data.sources[].weight (number, default 1.0"));
}

TEST(Config, LaterChecksLocateKeys) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", kValid);
  const RunConfig c = load_config(path, {"trainer.steps=5"});
  const std::string error = testing::user_error([&] { c.fail("model.name", "unknown model"); });
  EXPECT_EQ(error, path + ":8:3: model.name: unknown model");
  EXPECT_EQ(c.sources->locate("trainer.steps"), "--set trainer.steps=5");
  EXPECT_EQ(c.sources->locate("eval.every"), path);
}

// ---------------------------------------------------------------------------------------------
// Hostile and careless YAML: refused with a position, never a crash, a hang or memory blow-up
// ---------------------------------------------------------------------------------------------

TEST(ConfigHostile, SelfReferencingAliasIsRefusedNotFollowed) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", "a: &a {b: *a}\n");
  EXPECT_THAT(load_error(path), HasSubstr(path + ":1:11: aliases (*name) are not allowed in configs"));
}

TEST(ConfigHostile, BillionLaughsIsRefusedBeforeExpanding) {
  TempDir dir;
  std::string yaml = "l0: &l0 {a: lol, b: lol}\n";
  for (int i = 1; i < 30; ++i) {
    yaml += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " {a: *l" + std::to_string(i - 1) + ", b: *l" +
            std::to_string(i - 1) + "}\n";
  }
  const std::string path = dir.write("c.yaml", yaml);
  EXPECT_THAT(load_error(path), HasSubstr(path + ":2:"));
  EXPECT_THAT(load_error(path), HasSubstr("aliases (*name) are not allowed"));
  // Merge keys are aliases too, and so are aliases in --set values.
  const std::string valid = dir.write("v.yaml", kValid);
  EXPECT_THAT(load_error(valid, {"data.labels=&x [a, *x]"}), HasSubstr("--set data.labels=&x [a, *x]:1:"));
}

TEST(ConfigHostile, DuplicateKeysAndSectionsNameBothLines) {
  TempDir dir;
  const std::string keys = dir.write("k.yaml", "data:\n  source: idx\n  source: text\nmodel: {name: cnn}\n");
  EXPECT_EQ(load_error(keys), keys + ":3:3: duplicate key \"source\" (first at line 2); YAML keys must be unique in a mapping");
  const std::string sections = dir.write("s.yaml", std::string(kValid) + "trainer:\n  lr: 0.1\n");
  EXPECT_THAT(load_error(sections), HasSubstr(sections + ":13:1: duplicate key \"trainer\" (first at line 10)"));
  const std::string flow = dir.write("f.yaml", "data: {source: idx, source: idx}\nmodel: {name: cnn}\n");
  EXPECT_THAT(load_error(flow), HasSubstr("duplicate key \"source\""));
}

TEST(ConfigHostile, LongExtendsChainsDeepNestingAndHugeFilesAreBounded) {
  TempDir dir;
  dir.write("c0.yaml", kValid);
  for (int i = 1; i <= 40; ++i) {
    dir.write("c" + std::to_string(i) + ".yaml", "extends: c" + std::to_string(i - 1) + ".yaml\n");
  }
  EXPECT_THAT(load_error(dir.path() + "/c40.yaml"), HasSubstr("extends: more than 16 files deep"));
  EXPECT_EQ(load_error(dir.path() + "/c10.yaml"), "");
  const std::string deep = dir.write("d.yaml", "a: " + std::string(5000, '[') + std::string(5000, ']') + "\n");
  EXPECT_THAT(load_error(deep), HasSubstr(deep + ":1:"));
  const std::string huge = dir.write("h.yaml", "# " + std::string(2 << 20, 'x') + "\n");
  EXPECT_THAT(load_error(huge), HasSubstr("larger than 1 MiB"));
  const std::string documents = dir.write("m.yaml", std::string(kValid) + "---\nrun: {name: other}\n");
  EXPECT_THAT(load_error(documents), HasSubstr("holds more than one YAML document"));
}

TEST(ConfigHostile, LongOrControlCharacterValuesAreCutInMessages) {
  TempDir dir;
  const std::string path = dir.write("c.yaml", std::string(kValid) + "eval:\n  every: \"" + std::string(100000, '9') + "x\"\n");
  const std::string message = load_error(path);
  EXPECT_THAT(message, HasSubstr("eval.every: expected an integer >= 0, got \"9999"));
  EXPECT_THAT(message, HasSubstr("...(100001 bytes)"));
  EXPECT_LT(message.size(), 400u);
  const std::string escapes = dir.write("e.yaml", std::string(kValid) + "eval:\n  every: \"\\e[31mred\\nline\"\n");
  EXPECT_THAT(load_error(escapes), HasSubstr("got \"\\x1B[31mred\\x0Aline\""));
  const std::string unknown = dir.write("u.yaml", std::string(kValid) + "eval:\n  \"ev\\ery\": 1\n");
  EXPECT_THAT(load_error(unknown), HasSubstr("eval.ev\\x1Bry: unknown key"));
}

TEST(ConfigHostile, AbsurdSizesAreRefusedByTheirRules) {
  TempDir dir;
  const std::string valid = dir.write("c.yaml", kValid);
  EXPECT_THAT(load_error(valid, {"trainer.batch_size=9223372036854775807"}),
              HasSubstr("trainer.batch_size: expected an integer in [1, 16777216]"));
  EXPECT_THAT(load_error(valid, {"trainer.grad_accum=1000000000000"}),
              HasSubstr("trainer.grad_accum: expected an integer in [1, 65536]"));
  EXPECT_THAT(load_error(valid, {"trainer.threads=100000"}), HasSubstr("trainer.threads: expected an integer in [0, 1024]"));
  EXPECT_THAT(load_error(valid, {"data.prefetch=1000000000"}), HasSubstr("data.prefetch: expected an integer in [0, 1024]"));
  EXPECT_THAT(load_error(valid, {"distributed.init_timeout_s=1e300"}), HasSubstr("distributed.init_timeout_s: expected a number in"));
  EXPECT_THAT(load_error(valid, {"model.width=99999999999"}), HasSubstr("model.width: expected an integer in [0, 1048576]"));
}

TEST(Config, ReferenceListsEveryKeyOnce) {
  const std::string reference = config_reference();
  EXPECT_THAT(reference, HasSubstr("trainer.lr (number, default 0.001, a positive number)"));
  EXPECT_THAT(reference, HasSubstr("trainer.optimizer (string, default \"adamw\", one of: adamw, sgd)"));
  EXPECT_THAT(reference, HasSubstr("model.name (string, required)"));
  EXPECT_THAT(reference, HasSubstr("trainer.checkpoint.keep_last (int, default 2, an integer in [2, 1048576])"));
}

TEST(Config, EveryShippedConfigLoads) {
  int configs = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(STRATUM_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    EXPECT_EQ(load_error(entry.path().string()), "") << entry.path();
    ++configs;
  }
  EXPECT_GE(configs, 7);
}

}  // namespace
}  // namespace stratum
