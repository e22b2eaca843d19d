// The binary's contract with users: exit codes 0 / 2 and one-line `error:` messages that name
// the file, key or line at fault.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "integration/stratum_binary.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A usage error: exit 2 and exactly one `error:` line on stderr.
void expect_usage_error(const CommandResult& r, const std::string& fragment) {
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_THAT(r.err, StartsWith("error: "));
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr(fragment));
}

const char* kMinimal = "data:\n  source: idx\n  path: /usr/share/datasets/fashion-mnist\nmodel:\n  name: cnn\n";

TEST(Cli, VersionAndHelp) {
  const CommandResult version = run_stratum("--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_THAT(version.out, StartsWith("stratum 0."));
  const CommandResult help = run_stratum("--help");
  EXPECT_EQ(help.exit_code, 0);
  for (const char* command : {"train", "eval", "launch", "data", "qa", "export", "info"}) {
    EXPECT_THAT(help.out, HasSubstr(command));
    EXPECT_EQ(run_stratum(std::string(command) + " --help").exit_code, 0) << command;
  }
  EXPECT_THAT(run_stratum("train --help").out, HasSubstr("trainer.lr (number, default 0.001"));
}

TEST(Cli, NoCommandOrUnknownCommand) {
  EXPECT_EQ(run_stratum("").exit_code, 2);
  expect_usage_error(run_stratum("trian"), "unknown command \"trian\" (did you mean train?)");
}

TEST(Cli, BadFlags) {
  expect_usage_error(run_stratum("train"), "missing required option --config FILE");
  expect_usage_error(run_stratum("train --config x.yaml --bogus"), "unknown option --bogus");
  expect_usage_error(run_stratum("train --config"), "--config needs a value");
}

TEST(Cli, MissingConfigFile) {
  expect_usage_error(run_stratum("train --config /nonexistent/x.yaml"),
                     "/nonexistent/x.yaml: cannot read config file: No such file or directory");
}

TEST(Cli, ConfigErrorsNameFileLineAndKey) {
  TempDir dir;
  const std::string unknown = dir.write("u.yaml", std::string(kMinimal) + "trainer:\n  epoch: 3\n");
  expect_usage_error(run_stratum("train --config " + unknown),
                     unknown + ":7:3: trainer.epoch: unknown key (did you mean epochs?)");
  const std::string type = dir.write("t.yaml", std::string(kMinimal) + "trainer:\n  lr: fast\n");
  expect_usage_error(run_stratum("train --config " + type),
                     type + ":7:3: trainer.lr: expected a positive number, got \"fast\"");
  const std::string malformed = dir.write("m.yaml", "data:\n  source: idx\n bad indent: [\n");
  expect_usage_error(run_stratum("train --config " + malformed), malformed + ":");
  expect_usage_error(run_stratum("train --config " + malformed), "malformed YAML");
  expect_usage_error(run_stratum("train --config " + type + " --set trainer.lr=x"),
                     "--set trainer.lr=x: trainer.lr: expected a positive number, got \"x\"");
}

TEST(Cli, RegistryAndUnsupportedCombinationErrorsNameTheKey) {
  TempDir dir;
  const std::string model = dir.write("m.yaml", "data:\n  source: idx\nmodel:\n  name: cnnn\n");
  expect_usage_error(run_stratum("train --config " + model),
                     model + ":4:3: model.name: unknown model \"cnnn\" (did you mean cnn?)");
  const std::string parallel = dir.write("t.yaml", std::string(kMinimal) + "distributed:\n  tensor_parallel: 2\n");
  expect_usage_error(run_stratum("train --config " + parallel),
                     parallel + ":7:3: distributed.tensor_parallel: splits the model over 2 processes, but this is one; "
                                "start it with stratum launch --nproc-per-node 2 -- train ...");
  const std::string quantized = dir.write("q.yaml", std::string(kMinimal) + "distributed:\n  tensor_parallel: 2\n"
                                                    "quantization:\n  mode: nf4\n");
  expect_usage_error(run_stratum("train --config " + quantized),
                     quantized + ":9:3: quantization.mode: quantized base weights are not split across ranks with "
                                 "distributed.tensor_parallel > 1; train the float model (with LoRA) or quantize on one device");
  // Prefixes on a model without attention layers (the CNN).
  const std::string prefix = dir.write("p.yaml", std::string(kMinimal) + "adapters:\n  prefix:\n    enabled: true\n");
  expect_usage_error(run_stratum("train --config " + prefix + " --set data.max_records=500"),
                     prefix + ":8:5: adapters.prefix.enabled: the model has no attention layers to prefix");
  // LoRA on a model without the targeted layers (the CNN has no attention).
  const std::string lora = dir.write("l.yaml", std::string(kMinimal) + "adapters:\n  lora:\n    enabled: true\n");
  expect_usage_error(run_stratum("train --config " + lora + " --set data.max_records=500"),
                     lora + ":7:3: adapters.lora.targets: \"attn.qkv\" matches no linear layer of this model");
}

TEST(Cli, UnsafeRunNameIsRefusedBeforeAnythingIsWritten) {
  TempDir dir;
  const std::string config = dir.write("c.yaml", kMinimal);
  expect_usage_error(
      run_stratum("train --config " + config + " --set run.name=../escape --set run.output_dir=" + dir.path() + "/runs"),
      "run.name: \"../escape\" is not a plain folder name");
}

TEST(Cli, BadEnvironmentForMultiProcess) {
  TempDir dir;
  const std::string config = dir.write("c.yaml", kMinimal);
  CommandResult r = run_command(std::string("RANK=3 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 '") +
                                STRATUM_BINARY + "' train --config " + config);
  expect_usage_error(r, "environment: RANK=3 is not below WORLD_SIZE=2");
}

TEST(Cli, SubcommandsWithoutTheirArgumentsExit2) {
  expect_usage_error(run_stratum("launch"), "stratum launch: no worker command after --");
  expect_usage_error(run_stratum("qa"), "stratum qa: no tool given (agreement, spotcheck, weak-labels, select or relabel)");
  expect_usage_error(run_stratum("data"), "stratum data: no action given");
  expect_usage_error(run_stratum(""), "no command given (one of: train, eval, generate, sweep, compare, lr-find, launch");
  expect_usage_error(run_stratum("sweep"), "stratum sweep: missing required option --config");
  expect_usage_error(run_stratum("compare"), "compare: needs at least two runs");
  expect_usage_error(run_stratum("lr-find"), "stratum lr-find: missing required option --config");
}

TEST(Cli, DataInspectAndManifest) {
  const CommandResult inspect = run_stratum("data inspect --config configs/synthetic-drift.yaml");
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;
  EXPECT_THAT(inspect.out, HasSubstr("balance ratio (largest / smallest label in the seen sample): "));
  EXPECT_THAT(inspect.out, HasSubstr("class4"));
  EXPECT_THAT(inspect.out, HasSubstr("max KS"));
  EXPECT_THAT(inspect.out, HasSubstr("drift alerts: "));
  TempDir dir;
  const CommandResult manifest =
      run_stratum("data manifest --config configs/smoke.yaml --out " + dir.path() + "/m.json");
  ASSERT_EQ(manifest.exit_code, 0) << manifest.err;
  EXPECT_THAT(read_file(dir.path() + "/m.json"), HasSubstr("\"sha256\""));
  expect_usage_error(run_stratum("data inspekt --config configs/smoke.yaml"), "unknown action \"inspekt\"");
  // The tokenizer learns from text only, and a configured tokenizer file must exist.
  expect_usage_error(run_stratum("data tokenizer --config configs/smoke.yaml"), "gave no text to learn from");
  expect_usage_error(run_stratum("data inspect --config configs/fortunes-data.yaml --set data.tokenizer.path=" +
                                 dir.path() + "/none.json"),
                     "data.tokenizer.path: cannot open ");
  expect_usage_error(run_stratum("data inspect"), "missing required option --config FILE");
}

TEST(Cli, TextFromStandardInput) {
  TempDir dir;
  std::string lines;
  for (int i = 0; i < 300; ++i) lines += std::string(i % 3 ? "news\t" : "sport\t") + "item " + std::to_string(i) + "\n";
  const std::string file = dir.write("stream.txt", lines);
  const std::string config = dir.write("c.yaml", "data:\n  source: text\n  path: '-'\n  unseen: {by: none}\n"
                                                 "model:\n  name: mlp\n");
  const CommandResult r = run_command("cat " + file + " | '" + STRATUM_BINARY + "' data inspect --config " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("records read 300 = accepted 300 + rejected 0"));
  EXPECT_THAT(r.out, HasSubstr("sport"));
  // Training a model that cannot read tokens is refused with the key named.
  const CommandResult train =
      run_command("cat " + file + " | '" + STRATUM_BINARY + "' train --config " + config + " --set run.output_dir=" +
                  dir.path() + "/runs");
  expect_usage_error(train, "model.name: mlp needs image or feature inputs");
}

TEST(Cli, PathsTheSystemRefusesAreErrorsNamingThePath) {
  TempDir dir;
  const std::string long_name = dir.path() + "/" + std::string(300, 'c') + ".yaml";
  expect_usage_error(run_stratum("train --config " + long_name), "File name too long");
  const std::string loop = dir.path() + "/loop.yaml";
  ASSERT_EQ(run_command("ln -s " + loop + " " + loop).exit_code, 0);
  expect_usage_error(run_stratum("train --config " + loop), loop + ": cannot read config file");
  const std::string config = dir.write("c.yaml", std::string(kMinimal) + "run:\n  output_dir: " + dir.path() + "/runs\n");
  expect_usage_error(run_stratum("train --config " + config + " --set data.path=" + loop), "loop.yaml");
  expect_usage_error(run_stratum("train --config " + config + " --resume " + loop), loop + ": cannot use as a checkpoint");
  expect_usage_error(run_stratum("train --config " + config + " --resume " + long_name), "File name too long");
  expect_usage_error(run_stratum("report --run " + dir.path()), "not a Stratum run directory");
}

TEST(Cli, AbsurdSizesAreRefusedBeforeTheMachineIsExhausted) {
  TempDir dir;
  const std::string config = dir.write("c.yaml", std::string(kMinimal) + "run:\n  output_dir: " + dir.path() + "/runs\n");
  expect_usage_error(run_stratum("train --config " + config + " --set trainer.batch_size=9223372036854775000"),
                     "trainer.batch_size: expected an integer in [1, 16777216]");
  expect_usage_error(run_stratum("train --config " + config + " --set trainer.threads=100000"), "trainer.threads");
  // A width of a million: refused with the memory it would take, before anything is allocated.
  const CommandResult wide = run_stratum("train --config configs/gpt-fortunes.yaml --set model.width=1000000 --set "
                                         "model.heads=1 --set data.max_records=500 --set run.output_dir=" + dir.path());
  expect_usage_error(wide, "model.width: gpt-");
  EXPECT_THAT(wide.err, HasSubstr("(weights, gradients and optimizer state) but this machine has"));
  expect_usage_error(run_stratum("train --config " + config + " --set model.num_classes=3"),
                     "model.num_classes: 3 classes, but the data has 10");
}

TEST(Cli, InfoListsVersionsBlasAndModels) {
  const CommandResult r = run_stratum("info");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, ::testing::ContainsRegex("LibTorch  [0-9]+\\.[0-9]+\\.[0-9]+"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex("BLAS      (/|mkl, linked into LibTorch)"));
  EXPECT_THAT(r.out, HasSubstr("Gloo"));
  EXPECT_THAT(r.out, HasSubstr("cnn"));
  EXPECT_THAT(r.out, HasSubstr("mlp"));
  EXPECT_THAT(r.out, HasSubstr("idx"));
}

TEST(Cli, DataTokenizerLearnsFromTheSeenTextAndTheSourceUsesIt) {
  TempDir dir;
  const std::string tokenizer = dir.path() + "/tok.json";
  const std::string small = " --set data.max_records=3000 --set data.reservoir.max_items=2000";
  const CommandResult trained = run_stratum("data tokenizer --config configs/fortunes-data.yaml --set "
                                            "data.tokenizer.vocab_size=600" + small + " --out " + tokenizer);
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  EXPECT_THAT(trained.out, HasSubstr("tokenizer: 600 ids (343 merges)"));
  EXPECT_THAT(read_file(tokenizer), HasSubstr("\"type\": \"byte-bpe\""));
  const CommandResult inspect =
      run_stratum("data inspect --config configs/fortunes-data.yaml --set data.tokenizer.path=" + tokenizer + small);
  EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
}

}  // namespace
}  // namespace stratum::testing
