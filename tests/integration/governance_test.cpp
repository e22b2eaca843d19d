// Governance through the binary: planted sensitive values of every kind in a text, a JSONL and a
// weak-label stream never reach any byte a run, its spot check, relabel queue or report writes
// (and keyed tokens are stable per key); the audit ledger records runs, checkpoints, exports and
// label changes, names tampering, and keeps runs off a broken chain; dataset versions tell two
// runs' data apart; energy is null with a reason where no counter can be read.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "integration/stratum_binary.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

// Every kind the redactor knows, several of each; all fake.
const std::vector<std::string> kPlanted = {
    "ana.lopez@example.com", "ben+tag@mail.example.org", "+1 415 555 2671", "(212) 555-0188", "+44 20 7946 0958",
    "10.20.30.40", "192.168.7.201", "2001:db8:85a3::8a2e:370:7334", "fe80::1ff:fe23:4567:890a",
    "4111 1111 1111 1111", "5500-0000-0000-0004", "DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32",
    "EMP-493817"};
const std::vector<std::string> kLabels = {"account", "billing", "technical"};
const std::vector<std::string> kTopics = {"cannot log in to my account", "charged twice this month",
                                          "the app crashes on upload"};

std::string planted(int i) { return kPlanted[static_cast<size_t>(i) % kPlanted.size()]; }

// Writes the three streams (240 records each, most holding a planted value) and the votes.
struct Streams {
  std::string lines, jsonl, items, votes;
};

Streams write_streams(const TempDir& dir) {
  std::ostringstream lines, jsonl, items, votes;
  votes << "id,lf_keywords,lf_length\n";
  for (int i = 0; i < 240; ++i) {
    const int label = i % 3;
    const std::string text = kTopics[static_cast<size_t>(label)] + ", contact " + planted(i) + " or " + planted(i + 5);
    lines << kLabels[static_cast<size_t>(label)] << "\t" << text << "\n";
    jsonl << json{{"label", kLabels[static_cast<size_t>(label)]}, {"text", text},
                  {"user", {{"email", planted(0)}, {"ip", planted(6)}}}}
                 .dump()
          << "\n";
    items << json{{"id", "item-" + std::to_string(i)}, {"text", text + " " + planted(i + 9)}}.dump() << "\n";
    votes << "item-" << i << "," << kLabels[static_cast<size_t>(label)] << "," << kLabels[static_cast<size_t>(label)] << "\n";
  }
  return {dir.write("tickets.tsv", lines.str()), dir.write("chats.jsonl", jsonl.str()),
          dir.write("items.jsonl", items.str()), dir.write("votes.csv", votes.str())};
}

std::string config_text(const Streams& s, const std::string& output_dir, const std::string& email_action) {
  return "run: {name: gov, output_dir: " + output_dir + ", seed: 3}\n"
         "data:\n"
         "  labels: [account, billing, technical]\n"
         "  validation_fraction: 0.2\n"
         "  max_reject_fraction: 0.5\n"
         "  text: {max_length: 64}\n"
         "  drift: {window: 0}\n"
         "  unseen: {by: none}\n"
         "  redact:\n"
         "    email: " + email_action + "\n"
         "    phone: mask\n    ipv4: mask\n    ipv6: hash\n    card: mask\n    iban: mask\n"
         "    patterns: [{name: employee, regex: 'EMP-[0-9]{6}', action: mask}]\n"
         "    fields: [user.email, user.ip]\n"
         "    key_env: TEST_REDACT_KEY\n"
         "  sources:\n"
         "    - {name: tickets, source: text, path: " + s.lines + ", text: {format: lines}}\n"
         "    - {name: chats, source: text, path: " + s.jsonl + ", text: {format: jsonl}}\n"
         "    - {name: weak, source: weak_labels, path: " + s.items + ", weak_labels: {votes: " + s.votes + "}}\n"
         "model: {name: text-classifier, layers: 1, width: 32, heads: 2, mlp_hidden: 64}\n"
         "trainer: {steps: 12, batch_size: 16, warmup_steps: 2, threads: 2}\n"
         "eval: {max_samples: 64}\n"
         "logging: {every: 4}\n";
}

// One JSONL source alone: the spot-check tool samples a single source's reservoirs.
std::string chats_only(const std::string& mixed) {
  std::string text = mixed.substr(0, mixed.find("  sources:\n"));
  const size_t chats = mixed.find("    - {name: chats, source: text, path: ");
  const size_t path_start = chats + std::string("    - {name: chats, source: text, path: ").size();
  const std::string path = mixed.substr(path_start, mixed.find(',', path_start) - path_start);
  text.replace(text.find("  text: {max_length: 64}"), 24, "  text: {format: jsonl, max_length: 64}");
  text += "  source: text\n  path: " + path + "\n";
  return text + mixed.substr(mixed.find("model: "));
}

CommandResult stratum_with(const std::string& env, const std::string& arguments) {
  return run_command(std::string("cd '") + STRATUM_SOURCE_DIR + "' && " + env + " '" + STRATUM_BINARY + "' " + arguments);
}

// Every planted value found in any file under `root` (binary files included).
std::vector<std::string> leaks(const std::string& root) {
  std::vector<std::string> found;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = read_file(entry.path().string());
    for (const std::string& value : kPlanted) {
      if (bytes.find(value) != std::string::npos) found.push_back(entry.path().string() + ": " + value);
    }
  }
  return found;
}

std::set<std::string> tokens(const std::string& text, const std::string& kind) {
  std::set<std::string> out;
  const std::regex token("\\[" + kind + ":[0-9a-f]{16}\\]");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), token); it != std::sregex_iterator(); ++it) out.insert(it->str());
  return out;
}

TEST(Redaction, NoPlantedValueReachesAnythingARunWrites) {
  TempDir dir;
  const Streams streams = write_streams(dir);
  const std::string config = dir.write("gov.yaml", config_text(streams, dir.path() + "/runs", "hash"));
  const std::string key = "TEST_REDACT_KEY=the-first-key-0123456789";
  const CommandResult r = stratum_with(key, "train --config " + config);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = run_directory(r);
  fs::create_directories(dir.path() + "/out");
  // The relabel queue reads the run's data again: with the same key.
  const CommandResult queue = stratum_with(key, "qa relabel --checkpoint " + run + " --out " + dir.path() + "/out/queue.csv");
  ASSERT_EQ(queue.exit_code, 0) << queue.err;
  ASSERT_EQ(run_stratum("report --run " + run).exit_code, 0);
  EXPECT_THAT(r.out + r.err, ::testing::Not(HasSubstr("ana.lopez")));

  // Counted per detector and per source, never the values.
  const json manifest = json::parse(read_file(run + "/manifest.json"));
  for (const char* kind : {"email", "phone", "ipv4", "ipv6", "card", "iban", "employee", "field:user.email", "field:user.ip"}) {
    EXPECT_GT(manifest["redaction"]["findings"].value(kind, 0), 0) << kind;
  }
  for (const json& source : manifest["sources"]) EXPECT_GT(source["redaction"]["records_changed"].get<int>(), 0) << source["name"];
  EXPECT_THAT(manifest["dataset_version"].get<std::string>(), ::testing::StartsWith("ds-"));

  // The spot-check sheet shows people the records a run kept; the same key gives the same
  // tokens (records stay joinable), another key other ones.
  const std::string chats = dir.write("chats.yaml", chats_only(config_text(streams, dir.path() + "/runs", "hash")));
  const auto sheet_of = [&](const std::string& env, const std::string& name) {
    const CommandResult run_chats = stratum_with(env, "train --config " + chats);
    EXPECT_EQ(run_chats.exit_code, 0) << run_chats.err;
    const std::string sheet = dir.path() + "/out/" + name;
    EXPECT_EQ(run_stratum("qa spotcheck --checkpoint " + run_directory(run_chats) + " --fraction 1 --out " + sheet).exit_code, 0);
    return std::make_pair(read_file(sheet), json::parse(read_file(run_directory(run_chats) + "/manifest.json"))["dataset_version"]);
  };
  const auto [first_sheet, first_version] = sheet_of(key, "first.csv");
  const std::set<std::string> first = tokens(first_sheet, "EMAIL");
  ASSERT_FALSE(first.empty()) << first_sheet.substr(0, 2000);
  const auto [again_sheet, again_version] = sheet_of(key, "again.csv");
  EXPECT_EQ(tokens(again_sheet, "EMAIL"), first);
  EXPECT_EQ(again_version, first_version);
  const auto [other_sheet, other_version] = sheet_of("TEST_REDACT_KEY=a-different-key-0123456789", "other.csv");
  const std::set<std::string> other = tokens(other_sheet, "EMAIL");
  ASSERT_FALSE(other.empty());
  for (const std::string& t : other) EXPECT_EQ(first.count(t), 0u) << t;
  // The key is part of what the data is: another key, another dataset version.
  EXPECT_NE(other_version, first_version);
  EXPECT_EQ(leaks(dir.path() + "/runs"), std::vector<std::string>{});
  EXPECT_EQ(leaks(dir.path() + "/out"), std::vector<std::string>{});

  // Energy: nothing readable on this machine is said, never guessed.
  const json eval = json::parse(read_file(run + "/eval.json"));
  if (eval["energy"]["joules"].is_null()) EXPECT_THAT(eval["energy"]["reason"].get<std::string>(), HasSubstr("not measurable here"));
  EXPECT_EQ(eval["dataset_version"], manifest["dataset_version"]);
  EXPECT_THAT(read_file(run + "/metrics.jsonl"), HasSubstr("\"energy_joules\""));
}

TEST(Redaction, DroppedRecordsAreCountedAndBadPoliciesExitTwo) {
  TempDir dir;
  const Streams streams = write_streams(dir);
  std::string text = config_text(streams, dir.path() + "/runs", "mask");
  text.replace(text.find("card: mask"), 10, "card: drop_record");
  const CommandResult r = stratum_with("TEST_REDACT_KEY=the-first-key-0123456789", "train --config " + dir.write("drop.yaml", text));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string run = run_directory(r);
  const json manifest = json::parse(read_file(run + "/manifest.json"));
  const int dropped = manifest["redaction"]["records_dropped"].get<int>();
  EXPECT_GT(dropped, 0);
  // read = accepted + rejected, and every drop is in rejects.jsonl, marked as policy.
  EXPECT_EQ(manifest["records_read"].get<int>(), manifest["records_accepted"].get<int>() + manifest["records_rejected"].get<int>());
  int policy = 0;
  std::istringstream rejects(read_file(run + "/rejects.jsonl"));
  for (std::string line; std::getline(rejects, line);) policy += json::parse(line).value("policy", false);
  EXPECT_EQ(policy, dropped);

  const auto refused = [&](const std::string& name, const std::string& yaml, const std::string& env, const std::string& message) {
    const CommandResult bad = stratum_with(env, "train --config " + dir.write(name, yaml));
    EXPECT_EQ(bad.exit_code, 2) << name << ": " << bad.out << bad.err;
    EXPECT_THAT(bad.err, HasSubstr(message)) << name;
    EXPECT_EQ(count_lines(bad.err), 1) << bad.err;
  };
  std::string bad_pattern = config_text(streams, dir.path() + "/runs", "mask");
  bad_pattern.replace(bad_pattern.find("EMP-[0-9]{6}"), 12, "EMP-([0-9]");
  refused("pattern.yaml", bad_pattern, "", "data.redact.patterns[0].regex: does not compile");
  refused("nokey.yaml", config_text(streams, dir.path() + "/runs", "hash"), "",
          "data.redact.key_env: environment variable TEST_REDACT_KEY is not set");
  std::string bad_action = config_text(streams, dir.path() + "/runs", "scramble");
  refused("action.yaml", bad_action, "TEST_REDACT_KEY=the-first-key-0123456789", "data.redact.email");
}

std::string small_run(const TempDir& dir, const std::string& extra = "") {
  return "train --config configs/weak-labels.yaml --set run.output_dir=" + dir.path() +
         "/runs --set trainer.epochs=1 --set trainer.checkpoint.every=5 " + extra;
}

TEST(AuditLedger, RecordsRunsExportsAndLabelChangesAndRefusesABrokenChain) {
  TempDir dir;
  const std::string ledger = dir.path() + "/runs/audit.jsonl";
  const CommandResult first = run_stratum(small_run(dir));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const CommandResult second = run_stratum(small_run(dir, "--set run.seed=9"));
  ASSERT_EQ(second.exit_code, 0) << second.err;
  const std::string run = run_directory(first);
  ASSERT_EQ(run_stratum("export --checkpoint " + run + " --out " + dir.path() + "/model.safetensors").exit_code, 0);
  const std::string decisions = dir.write("decisions.csv",
                                          "item,old_label,new_label,reviewer,reason\n"
                                          "item-4,sports,politics,alice,the article is about a minister\n");
  CommandResult r = run_stratum("qa relabel --checkpoint " + run + " --accept " + decisions);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bad_decisions = dir.write("bad.csv", "item,old_label,new_label,reviewer,reason\nitem-4,a,nonsense,bob,x\n");
  r = run_stratum("qa relabel --checkpoint " + run + " --accept " + bad_decisions);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("bad.csv:2: new_label \"nonsense\" is not one of the run's classes"));

  r = run_stratum("audit verify " + ledger);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, int> events;
  std::istringstream lines(read_file(ledger));
  for (std::string line; std::getline(lines, line);) ++events[json::parse(line)["event"].get<std::string>()];
  EXPECT_EQ(events["run_started"], 2);
  EXPECT_EQ(events["run_finished"], 2);
  EXPECT_GE(events["checkpoint_committed"], 4);
  EXPECT_EQ(events["export"], 1);
  EXPECT_EQ(events["label_changed"], 1);
  EXPECT_THAT(r.out, HasSubstr("entries verified"));

  r = run_stratum("audit show --run " + run);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json manifest = json::parse(read_file(run + "/manifest.json"));
  EXPECT_THAT(r.out, HasSubstr("data version " + manifest["dataset_version"].get<std::string>()));
  EXPECT_THAT(r.out, HasSubstr("exported"));
  EXPECT_THAT(r.out, HasSubstr("item item-4: sports -> politics by alice"));
  EXPECT_THAT(r.out, HasSubstr("other runs on data version"));  // the second run read the same data

  // A run's audit.json edited by hand: its entries are reported missing, never a crash.
  const std::string listing = read_file(run + "/audit.json");
  std::ofstream(run + "/audit.json", std::ios::trunc)
      << json{{"ledger", ledger}, {"entries", json::array({json{{"seq", "x"}, {"event", 3}}, 7})}}.dump();
  r = run_stratum("audit show --run " + run);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("of this run's ledger entries are missing or altered"));
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  std::ofstream(run + "/audit.json", std::ios::trunc) << listing;

  // Tampering: named by line, one error line, exit 2; no run starts on it.
  const std::string original = read_file(ledger);
  std::string tampered = original;
  tampered.replace(tampered.find("\"finished\""), 10, "\"FINISHED\"");
  std::ofstream(ledger, std::ios::trunc) << tampered;
  r = run_stratum("audit verify " + ledger);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("was altered"));
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  size_t runs_before = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/runs")) runs_before += e.is_directory();
  r = run_stratum(small_run(dir));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--new-audit-chain"));
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  size_t runs_after = 0;
  for (const auto& e : fs::directory_iterator(dir.path() + "/runs")) runs_after += e.is_directory();
  EXPECT_EQ(runs_after, runs_before);
  r = run_stratum(small_run(dir, "--new-audit-chain"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  bool aside = false;
  for (const auto& e : fs::directory_iterator(dir.path() + "/runs")) aside |= e.path().filename().string().rfind("audit.jsonl.broken-", 0) == 0;
  EXPECT_TRUE(aside);
  EXPECT_EQ(json::parse(read_file(ledger).substr(0, read_file(ledger).find('\n')))["event"], "chain_started");
  EXPECT_EQ(run_stratum("audit verify " + ledger).exit_code, 0);

  // Sealed entries: a required key that is missing stops the run before anything is written.
  r = run_stratum(small_run(dir, "--set audit.require_hmac=true --set audit.key_env=TEST_NO_SUCH_KEY"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("audit.key_env: audit.require_hmac is set but environment variable TEST_NO_SUCH_KEY"));
  r = stratum_with("TEST_AUDIT_KEY=sealing-key-0123456789", small_run(dir, "--set audit.key_env=TEST_AUDIT_KEY --set audit.path=" + dir.path() + "/sealed.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = stratum_with("TEST_AUDIT_KEY=sealing-key-0123456789", "audit verify " + dir.path() + "/sealed.jsonl --key-env TEST_AUDIT_KEY");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("all valid"));
  r = stratum_with("TEST_AUDIT_KEY=a-wrong-key-0123456789", "audit verify " + dir.path() + "/sealed.jsonl --key-env TEST_AUDIT_KEY");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("HMAC does not match"));
}

TEST(DataDiff, TellsSameAndDifferentDataApart) {
  TempDir dir;
  const CommandResult a = run_stratum(small_run(dir));
  const CommandResult b = run_stratum(small_run(dir, "--set run.seed=5"));
  const CommandResult c = run_stratum(small_run(dir, "--set data.weak_labels.min_confidence=0.6 --set data.max_reject_fraction=0.5"));
  ASSERT_EQ(a.exit_code, 0);
  ASSERT_EQ(b.exit_code, 0);
  ASSERT_EQ(c.exit_code, 0);
  CommandResult r = run_stratum("data diff " + run_directory(a) + " " + run_directory(b));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("same dataset versions"));
  r = run_stratum("data diff " + run_directory(a) + " " + run_directory(c));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("different dataset versions"));
  EXPECT_THAT(r.out, HasSubstr("data.weak_labels.min_confidence: 0.5 -> 0.6"));
  EXPECT_THAT(r.out, HasSubstr("records_rejected"));
  r = run_stratum("data diff " + run_directory(a));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("expected two run directories"));
  r = run_stratum("data diff " + run_directory(a) + " /nonexistent");
  EXPECT_EQ(r.exit_code, 2);
  // A hand-edited manifest with fields of the wrong type is read as far as it makes sense.
  const std::string edited = dir.path() + "/edited";
  fs::create_directories(edited);
  std::ofstream(edited + "/manifest.json")
      << R"({"dataset_version": 5, "class_names": "x", "files": [3, {"role": 1}], "label_counts": {"seen": "y"}})";
  r = run_stratum("data diff " + run_directory(a) + " " + edited);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("different dataset versions"));
}

}  // namespace
}  // namespace stratum::testing
