// Command-line flags through the binary: generated argument lists (unknown and repeated
// flags, missing values, absurd numbers, control bytes, broken configs and overrides) end in
// exit 0, or exit 2 with exactly one `error:` line; never exit 1, a signal or a hang.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>

#include "data/rng.h"
#include "integration/stratum_binary.h"

namespace stratum::testing {
namespace {

// One shell word, single-quoted.
std::string quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

TEST(CliFuzz, GeneratedArgumentListsExitZeroOrTwoWithOneLine) {
  TempDir dir;
  const std::string malformed = dir.write("malformed.yaml", "data: [unclosed\n  model: {\n");
  const std::string alias = dir.write("alias.yaml", "a: &a {b: *a}\n");
  const std::string empty = dir.write("empty.yaml", "");
  const std::string ledger = dir.write("audit.jsonl", "{\"seq\":1,\"prev\":\"00\",\"event\":\"x\"}\n{broken\n");
  const std::vector<std::string> commands = {"train", "eval", "data inspect", "data manifest", "data tokenizer", "data prepare",
                                             "export", "report", "qa agreement", "qa spotcheck", "qa select",
                                             "qa relabel", "qa weak-labels", "launch", "info", "generate", "sweep", "compare",
                                             "lr-find", "audit verify", "audit show", "audit", "data diff", "trian", ""};
  const std::vector<std::string> flags = {"--config", "--set", "--resume", "--checkpoint", "--out", "--run",
                                          "--plugin", "--nproc-per-node", "--nnodes", "--node-rank", "--master-port",
                                          "--max-restarts", "--k", "--fraction", "--time-buckets", "--seed", "--max",
                                          "--help", "--bogus", "-x", "--", "--config=", "--set=", "--prompt",
                                          "--prompts", "--weights", "--temperature", "--top-p", "--max-new-tokens",
                                          "--workers", "--shard-tokens", "--grid", "--ablate", "--seeds", "--parallel",
                                          "--range", "--sample", "--ledger", "--key-env", "--require-hmac", "--new-audit-chain",
                                          "--accept", "--max-lines"};
  const std::vector<std::string> values = {
      std::string(STRATUM_SOURCE_DIR) + "/configs/smoke.yaml", malformed, alias, empty, ledger, "/nonexistent/x.yaml",
      dir.path(), dir.path() + "/out.json", "-1", "0",
      "2147483648", "99999999999999999999", "1e308", "nan", "", "auto", "\x1b[31mred", "caf\xc3", std::string(300, 'p'),
      "trainer.lr=fast", "trainer.batch_size=9223372036854775807", "data.prefetch=1000000000", "model.width=1e6",
      "a.b.c=1", "=1", "trainer=", "data.labels=[*x]", "run.name=../../etc", "trainer.grad_accum=-3",
      dir.path() + "/runs", "trainer.lr=[0.1,0.2]", "trainer.lr=[]", "trainer.ema", "1,2", "trainer.lr=log:1e-4:1"};
  data::Rng rng(2026, 11);
  int cases = 0, exit_zero = 0, exit_two = 0;
  for (int i = 0; i < 45; ++i) {
    std::string args = commands[rng.below(commands.size())];
    const int words = static_cast<int>(rng.below(6));
    for (int w = 0; w < words; ++w) {
      args += " " + flags[rng.below(flags.size())];
      if (rng.below(5) != 0) args += " " + quote(values[rng.below(values.size())]);
    }
    // Whatever else it says, a run that gets this far must not train for long or write outside.
    if (args.rfind("train", 0) == 0 || args.rfind("eval", 0) == 0 || args.rfind("data", 0) == 0) {
      args += " --set trainer.steps=1 --set data.max_records=300 --set run.output_dir=" + dir.path() + "/runs";
    }
    if (args.rfind("launch", 0) == 0) args += " -- info";
    if (args.rfind("sweep", 0) == 0) args += " --dry-run";  // planned and checked, never run
    if (args.rfind("lr-find", 0) == 0) args += " --steps 10 --set data.max_records=300 --out " + dir.path() + "/lr";
    // From the scratch folder: files a command writes by default (manifest.json, eval.json) land there.
    const CommandResult r = run_command("cd '" + dir.path() + "' && timeout 120 '" + STRATUM_BINARY + "' " + args +
                                        " < /dev/null");
    ++cases;
    const bool ok = r.exit_code == 0 || r.exit_code == 2;
    EXPECT_TRUE(ok) << "case " << i << ": stratum " << args << "\nexit " << r.exit_code << "\n" << r.err.substr(0, 2000);
    if (r.exit_code == 2) {
      ++exit_two;
      EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << "case " << i << ": stratum " << args << "\n" << r.err;
      EXPECT_EQ(count_lines(r.err), 1) << "case " << i << ": stratum " << args << "\n" << r.err;
    }
    if (r.exit_code == 0) ++exit_zero;
  }
  std::printf("fuzz CLI flags: %d cases, %d exit 0, %d exit 2\n", cases, exit_zero, exit_two);
  EXPECT_GT(exit_two, 28);
}

}  // namespace
}  // namespace stratum::testing
