// The audit ledger: every kind of tampering is named at its entry, seals catch what the chain
// alone cannot, concurrent writers never fork the chain, a writer killed at any moment or a torn
// last write leaves a ledger that verifies up to its last whole entry, and random damage never
// crashes the verifier.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "engine/audit/audit_ledger.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace stratum::audit {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::trunc);
  for (const std::string& line : lines) out << line << "\n";
}

std::string ledger_with(const TempDir& dir, int entries, const std::string& key = "") {
  const std::string path = dir.path() + "/audit.jsonl";
  const AuditLedger ledger(path, key);
  for (int i = 0; i < entries; ++i) ledger.append("run_started", "{\"run\": \"runs/r" + std::to_string(i) + "\"}");
  return path;
}

TEST(AuditLedger, ChainsEntriesAndVerifies) {
  TempDir dir;
  const std::string path = ledger_with(dir, 5);
  const LedgerCheck check = verify_ledger(path, "");
  EXPECT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.entries, 5);
  EXPECT_EQ(check.sealed, 0);
  const std::vector<LedgerEntry> entries = read_ledger(path);
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[4].seq, 5);
  EXPECT_EQ(entries[0].event, "run_started");
  EXPECT_THAT(entries[1].text, HasSubstr("\"prev\":\"" + entries[0].hash + "\""));
  EXPECT_THROW(verify_ledger(dir.path() + "/none.jsonl", ""), UserError);
}

TEST(AuditLedger, NamesEveryKindOfTampering) {
  TempDir dir;
  const std::string path = ledger_with(dir, 6);
  const std::vector<std::string> original = lines_of(path);
  const auto problem = [&](std::vector<std::string> lines) {
    write_lines(path, lines);
    const LedgerCheck check = verify_ledger(path, "");
    EXPECT_FALSE(check.ok);
    return check.problem;
  };
  std::vector<std::string> altered = original;
  altered[2].replace(altered[2].find("runs/r2"), 7, "runs/rX");
  EXPECT_THAT(problem(altered), HasSubstr("audit.jsonl:3: entry seq 3 (run_started) was altered"));

  std::vector<std::string> deleted = original;
  deleted.erase(deleted.begin() + 1);
  EXPECT_THAT(problem(deleted), HasSubstr("audit.jsonl:2: entry seq 2 is missing before entry seq 3 (deleted)"));

  std::vector<std::string> reordered = original;
  std::swap(reordered[2], reordered[3]);
  EXPECT_THAT(problem(reordered), HasSubstr("audit.jsonl:3: entry seq 4 where seq 3 is due"));
  std::vector<std::string> swapped_back = original;
  std::swap(swapped_back[3], swapped_back[4]);
  EXPECT_THAT(problem(swapped_back), HasSubstr("entries were reordered"));

  std::vector<std::string> inserted = original;
  inserted.insert(inserted.begin() + 4, original[1]);
  EXPECT_THAT(problem(inserted), HasSubstr("audit.jsonl:5: entry seq 2 where seq 5 is due (an entry was inserted or copied; seq 2 is already on line 2)"));

  std::vector<std::string> garbage = original;
  garbage.insert(garbage.begin() + 2, "{\"hello\": 1}");
  EXPECT_THAT(problem(garbage), HasSubstr("audit.jsonl:3: not a ledger entry"));

  std::vector<std::string> first_gone = original;
  first_gone.erase(first_gone.begin());
  EXPECT_THAT(problem(first_gone), HasSubstr("entry seq 1 is missing"));
}

TEST(AuditLedger, SealsCatchWhatTheChainCannot) {
  TempDir dir;
  const std::string key = "audit-key-0123456789";
  const std::string path = ledger_with(dir, 4, key);
  LedgerCheck check = verify_ledger(path, key);
  ASSERT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.sealed, 4);
  // An edit of the last entry has no successor to break: only its seal shows it.
  std::vector<std::string> lines = lines_of(path);
  lines[3].replace(lines[3].find("runs/r3"), 7, "runs/rZ");
  write_lines(path, lines);
  EXPECT_TRUE(verify_ledger(path, "").ok);
  check = verify_ledger(path, key);
  EXPECT_FALSE(check.ok);
  EXPECT_THAT(check.problem, HasSubstr("audit.jsonl:4: entry seq 4 (run_started) was altered: its HMAC does not match"));
  EXPECT_FALSE(verify_ledger(path, "another-key-0123456789").ok);
  // Without the key nobody can re-chain a forged entry: an unsealed one is named as such.
  TempDir other;
  const std::string unsealed = ledger_with(other, 2);
  check = verify_ledger(unsealed, key);
  EXPECT_THAT(check.problem, HasSubstr("audit.jsonl:1: entry seq 1 carries no HMAC"));
}

TEST(AuditLedger, ConcurrentWritersNeverForkTheChain) {
  TempDir dir;
  const std::string path = dir.path() + "/audit.jsonl";
  constexpr int kWriters = 4, kEach = 40;
  std::vector<pid_t> children;
  for (int w = 0; w < kWriters; ++w) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const AuditLedger ledger(path, "k-0123456789abcdef");
      for (int i = 0; i < kEach; ++i) ledger.append("checkpoint_committed", "{\"writer\": " + std::to_string(w) + "}");
      _exit(0);
    }
    children.push_back(pid);
  }
  for (const pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  const LedgerCheck check = verify_ledger(path, "k-0123456789abcdef");
  EXPECT_TRUE(check.ok) << check.problem;
  EXPECT_EQ(check.entries, kWriters * kEach);
}

// A writer killed at a random moment (SIGKILL: no handler runs) never leaves a ledger that
// fails; a torn last write (what a power cut leaves) verifies up to the last whole entry, and
// the next append cuts the torn tail off and goes on.
TEST(AuditLedger, KilledWritersAndTornWritesLeaveAVerifiableLedger) {
  TempDir dir;
  const std::string path = dir.path() + "/audit.jsonl";
  std::mt19937 rng(11);
  for (int round = 0; round < 8; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const AuditLedger ledger(path, "");
      for (;;) ledger.append("run_finished", "{\"round\": " + std::to_string(round) + ", \"pad\": \"" + std::string(3000, 'x') + "\"}");
    }
    usleep(2000 + rng() % 20000);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    const LedgerCheck check = verify_ledger(path, "");
    ASSERT_TRUE(check.ok) << "round " << round << ": " << check.problem;
  }
  const int64_t whole = verify_ledger(path, "").entries;
  ASSERT_GT(whole, 0);
  const auto size = fs::file_size(path);
  for (int cut = 0; cut < 20; ++cut) {
    TempDir copy_dir;
    const std::string copy = copy_dir.path() + "/audit.jsonl";
    fs::copy_file(path, copy);
    const auto keep = size - 1 - rng() % 2500;  // somewhere inside the last entry or two
    fs::resize_file(copy, keep);
    const LedgerCheck torn = verify_ledger(copy, "");
    ASSERT_TRUE(torn.ok) << torn.problem;
    EXPECT_TRUE(torn.incomplete_tail || torn.entries < whole);
    const AuditLedger ledger(copy, "");
    const LedgerEntry next = ledger.append("run_started", "{}");
    const LedgerCheck after = verify_ledger(copy, "");
    EXPECT_TRUE(after.ok) << after.problem;
    EXPECT_FALSE(after.incomplete_tail);
    EXPECT_EQ(after.entries, torn.entries + 1);
    EXPECT_EQ(next.seq, torn.entries + 1);
  }
}

TEST(AuditLedger, RandomDamageNeverCrashesTheVerifier) {
  TempDir dir;
  const std::string path = ledger_with(dir, 8, "fuzz-key-0123456789");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    bytes = s.str();
  }
  std::mt19937 rng(3);
  int caught = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string damaged = bytes;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % damaged.size();
      switch (rng() % 3) {
        case 0: damaged[at] = static_cast<char>(rng() % 256); break;
        case 1: damaged.erase(at, 1 + rng() % 40); break;
        default: damaged.insert(at, std::string(1 + rng() % 5, static_cast<char>(rng() % 256))); break;
      }
      if (damaged.empty()) damaged = "x";
    }
    std::ofstream(path, std::ios::binary | std::ios::trunc) << damaged;
    const LedgerCheck check = verify_ledger(path, "fuzz-key-0123456789");
    caught += !check.ok || check.entries < 8 || check.incomplete_tail || damaged == bytes;
  }
  EXPECT_EQ(caught, 1500);  // every damaged copy is refused, shorter, or ends in a partial entry
}

}  // namespace
}  // namespace stratum::audit
