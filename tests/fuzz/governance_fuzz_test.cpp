// The governance inputs: mutated audit ledgers are verified (or refused with one line), and a
// sealed ledger that verifies whole is the one written; mutated redaction patterns compile or
// are refused by key, and whatever compiles redacts arbitrary text without crashing.

#include <gtest/gtest.h>

#include "data/redaction/redactor.h"
#include "engine/audit/audit_ledger.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

const std::vector<std::string> kLedgerTokens = {"{", "}", "\"seq\":", "\"prev\":", "\"event\":", "\"hmac\":\"", ",", "\n",
                                                "\"run_started\"", "0000", "-1", "99999999999999999999", "\\u0000",
                                                "\xff", "\"", "null"};

TEST(GovernanceFuzz, MutatedLedgersVerifyOrNameTheLine) {
  TempDir dir;
  const std::string key = "fuzz-ledger-key-0123456789";
  const std::string path = dir.path() + "/audit.jsonl";
  {
    const audit::AuditLedger ledger(path, key);
    for (int i = 0; i < 6; ++i) ledger.append(i % 2 ? "checkpoint_committed" : "run_started", "{\"step\": " + std::to_string(i) + "}");
  }
  const std::string original = read_file(path);
  Mutator mutator(41, kLedgerTokens);
  FuzzTally tally("audit ledger");
  int refused = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string mutant = mutator.mutate(original);
    const std::string file = dir.write("mutant.jsonl", mutant);
    tally.run(i, [&] {
      const audit::LedgerCheck check = audit::verify_ledger(file, key);
      if (check.ok && check.entries == 6 && !check.incomplete_tail) {
        EXPECT_EQ(mutant, original) << "case " << i << ": a changed ledger verified whole";
      }
      refused += !check.ok;
      audit::read_ledger(file);
    }, mutant);
  }
  EXPECT_GT(refused, 200);
}

TEST(GovernanceFuzz, MutatedRedactionPatternsCompileOrAreRefusedByKey) {
  Mutator mutator(43, {"(", ")", "[", "]", "{", "}", "*", "+", "?", "|", "\\", "\\d", "(?P<x>", "{99999}", "\xff", "^", "$"});
  const std::vector<std::string> valid = {"TCK-[0-9]{6}", "EMP-\\d{6}", "(?i)secret[a-z]+", "[A-Z]{3}\\d{2,4}"};
  FuzzTally tally("redaction patterns");
  for (int i = 0; i < 400; ++i) {
    data::RedactOptions options;
    options.email = data::RedactAction::mask;
    options.patterns = {{"mine", mutator.mutate(valid[static_cast<size_t>(i) % valid.size()]), data::RedactAction::mask}};
    tally.run(i, [&] {
      data::Redactor redactor(options);
      std::string text = mutator.mutate("ticket TCK-123456 from EMP-654321 secretword a@b.io");
      redactor.redact_text(text);
      std::string json = "{\"t\": \"" + text + "\"}";
      redactor.redact_json(json);
    }, options.patterns[0].regex);
  }
}

}  // namespace
}  // namespace stratum::testing
