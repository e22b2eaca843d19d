// `stratum audit verify|show`: checks the audit ledger's chain (and seals), and prints one run's
// lineage from it: config, data version, base weights, checkpoints, exports and the label
// changes recorded since it started.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/read_file.h"
#include "core/text.h"
#include "engine/audit/audit_ledger.h"
#include "engine/audit/run_audit.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/config.h"

namespace fs = std::filesystem;

namespace stratum::cli {
namespace {

using json = nlohmann::json;

std::string key_from(const std::string& env) {
  const char* key = env.empty() ? nullptr : std::getenv(env.c_str());
  return key && *key ? key : "";
}

std::string same_path(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path), ec);
  return ec ? path : p.string();
}

int audit_verify(const Args& args) {
  std::vector<std::string> paths;
  std::string config_path, key_env = "STRATUM_AUDIT_KEY";
  bool require_hmac = false;
  ArgParser parser("stratum audit verify", "[LEDGER] [--config FILE] [--key-env NAME] [--require-hmac]",
                   "Check the audit ledger's hash chain, and each entry's HMAC when the key is in the environment; "
                   "names the first entry that was altered, deleted, inserted or reordered (exit 2).");
  parser.option("--config", "FILE", "a run config whose audit: section names the ledger and its key", &config_path);
  parser.option("--key-env", "NAME", "environment variable with the HMAC key (default STRATUM_AUDIT_KEY)", &key_env);
  parser.flag("--require-hmac", "fail when the key is not set (every entry must carry a valid seal)", &require_hmac);
  parser.positionals(&paths);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (paths.size() > 1) throw UserError("stratum audit verify: one ledger at a time (got " + std::to_string(paths.size()) + ")");
  std::string path = paths.empty() ? "runs/audit.jsonl" : paths[0];
  if (!config_path.empty()) {
    const RunConfig config = load_config(config_path);
    if (paths.empty()) path = audit::ledger_path(config);
    if (key_env == "STRATUM_AUDIT_KEY") key_env = config.audit.key_env;
    require_hmac = require_hmac || config.audit.require_hmac;
  }
  const std::string key = key_from(key_env);
  if (require_hmac && key.empty()) {
    throw UserError("--key-env: environment variable " + key_env + " holds no key, and the seals are required");
  }
  const audit::LedgerCheck check = audit::verify_ledger(path, key);
  if (!check.ok) throw UserError(check.problem);
  std::printf("%s: %lld entries verified (%lld sealed with an HMAC%s); head %s\n", path.c_str(),
              static_cast<long long>(check.entries), static_cast<long long>(check.sealed),
              key.empty() ? ", not checked: no key" : ", all valid", check.head_seq_hash.empty() ? "none" : check.head_seq_hash.c_str());
  if (check.incomplete_tail) {
    std::printf("note: the file ends in an incomplete entry (a writer stopped mid-append); the next append cuts it off\n");
  }
  if (key.empty()) {
    std::printf("note: without the key (%s) the chain is checked, but an edit of the last entry or a chain rewritten "
                "from the start cannot be told from the real one\n", key_env.c_str());
  }
  return kExitOk;
}

std::string text_of(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return "";
  const json& v = j[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

int audit_show(const Args& args) {
  std::string run, ledger_path, key_env = "STRATUM_AUDIT_KEY";
  ArgParser parser("stratum audit show", "--run DIR [--ledger FILE]",
                   "A run's lineage from the audit ledger: config, dataset version, base weights, resumed-from "
                   "checkpoint, checkpoints, exports, promotions, and the label changes recorded since it started.");
  parser.option("--run", "DIR", "a run directory", &run, /*required=*/true);
  parser.option("--ledger", "FILE", "the ledger (default: the one the run recorded in, from its audit.json)", &ledger_path);
  parser.option("--key-env", "NAME", "environment variable with the HMAC key (default STRATUM_AUDIT_KEY)", &key_env);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  std::error_code ec;
  if (!fs::is_directory(run, ec)) throw UserError("--run: " + run + " is not a directory");
  const json listing = json::parse(read_file(run + "/audit.json").value_or(""), nullptr, false);
  if (ledger_path.empty()) {
    if (!listing.is_object() || !listing.contains("ledger") || !listing["ledger"].is_string()) {
      throw UserError(run + "/audit.json: missing or unreadable (the run was not audited; pass --ledger FILE to search one)");
    }
    ledger_path = listing["ledger"].get<std::string>();
  }
  const audit::LedgerCheck check = audit::verify_ledger(ledger_path, key_from(key_env));
  std::printf("ledger: %s (%s)\n", ledger_path.c_str(),
              check.ok ? ("chain verified, " + std::to_string(check.entries) + " entries").c_str() : check.problem.c_str());
  const std::vector<audit::LedgerEntry> entries = audit::read_ledger(ledger_path);
  const std::string me = same_path(run);

  // Every entry the run listed must still be in the ledger, unchanged.
  std::map<int64_t, const audit::LedgerEntry*> by_seq;
  for (const auto& e : entries) by_seq[e.seq] = &e;
  int missing = 0;
  if (listing.is_object() && listing.contains("entries") && listing["entries"].is_array()) {
    for (const json& item : listing["entries"]) {
      if (!item.is_object()) continue;
      const int64_t seq = item.contains("seq") && item["seq"].is_number_integer() ? item["seq"].get<int64_t>() : -1;
      const auto found = by_seq.find(seq);
      if (found == by_seq.end() || found->second->hash != text_of(item, "sha256")) {
        std::printf("MISSING: entry seq %lld (%s) of this run is not in the ledger as written (deleted or altered)\n",
                    static_cast<long long>(seq), text_of(item, "event").c_str());
        ++missing;
      }
    }
  }

  std::string started_time, dataset_version;
  int checkpoints = 0;
  std::string last_checkpoint;
  std::printf("run: %s\n", run.c_str());
  for (const auto& e : entries) {
    const json j = json::parse(e.text, nullptr, false);
    if (same_path(text_of(j, "run")) != me) continue;
    if (e.event == "run_started") {
      started_time = started_time.empty() ? e.time : started_time;
      dataset_version = text_of(j, "dataset_version");
      std::printf("  started %s by %s@%s (seq %lld)\n", e.time.c_str(), text_of(j, "user").c_str(), text_of(j, "host").c_str(),
                  static_cast<long long>(e.seq));
      std::printf("    config %s (sha256 %s), from %s\n", text_of(j, "config").c_str(), text_of(j, "config_sha256").c_str(),
                  text_of(j, "source_config").c_str());
      std::printf("    data version %s (manifest sha256 %s)\n", dataset_version.c_str(), text_of(j, "manifest_sha256").c_str());
      std::printf("    stratum %s, LibTorch %s, model %s, seed %s\n", text_of(j, "stratum_version").c_str(),
                  text_of(j, "libtorch_version").c_str(), text_of(j, "model").c_str(), text_of(j, "seed").c_str());
      if (j.contains("base_weights")) std::printf("    base weights %s\n", j["base_weights"].dump().c_str());
      if (j.contains("resumed_from")) std::printf("    resumed from %s\n", j["resumed_from"].dump().c_str());
      if (j.contains("plugins") && !j["plugins"].empty()) std::printf("    plugins %s\n", j["plugins"].dump().c_str());
      std::printf("    redaction %s\n", j.contains("redaction") && !j["redaction"].is_null() ? j["redaction"].dump().c_str() : "none");
    } else if (e.event == "checkpoint_committed") {
      ++checkpoints;
      last_checkpoint = "step " + text_of(j, "step") + " " + text_of(j, "checkpoint") + " (sha256 " + text_of(j, "sha256") + ")";
    } else if (e.event == "run_finished") {
      if (checkpoints > 0) std::printf("  checkpoints: %d committed, last %s\n", checkpoints, last_checkpoint.c_str());
      checkpoints = 0;
      std::printf("  %s %s after %s steps; metrics %s; energy %s\n", text_of(j, "status").c_str(), e.time.c_str(),
                  text_of(j, "steps").c_str(), j.contains("metrics") ? j["metrics"].dump().c_str() : "-",
                  j.contains("energy") ? j["energy"].dump().c_str() : "-");
    } else if (e.event == "export") {
      std::printf("  exported %s: %s (sha256 %s)\n", e.time.c_str(), text_of(j, "out").c_str(), text_of(j, "sha256").c_str());
    } else if (e.event == "promotion") {
      std::printf("  promoted step %s: %s\n", text_of(j, "step").c_str(), text_of(j, "reason").c_str());
    }
  }
  if (checkpoints > 0) std::printf("  checkpoints: %d committed, last %s\n", checkpoints, last_checkpoint.c_str());
  if (started_time.empty()) std::printf("  no run_started entry for this run in the ledger\n");

  // Label changes accepted after the run started: its labels may be out of date.
  int changes = 0;
  std::vector<std::string> same_data;
  for (const auto& e : entries) {
    const json j = json::parse(e.text, nullptr, false);
    if (e.event == "label_changed" && !started_time.empty() && e.time >= started_time) {
      if (changes++ < 20) {
        std::printf("  label change %s: item %s: %s -> %s by %s (%s)\n", e.time.c_str(), text_of(j, "item").c_str(),
                    text_of(j, "old_label").c_str(), text_of(j, "new_label").c_str(), text_of(j, "reviewer").c_str(),
                    text_of(j, "reason").c_str());
      }
    }
    if (e.event == "run_started" && !dataset_version.empty() && text_of(j, "dataset_version") == dataset_version &&
        same_path(text_of(j, "run")) != me) {
      same_data.push_back(text_of(j, "run"));
    }
  }
  std::printf("  label changes since it started: %d\n", changes);
  if (!same_data.empty()) std::printf("  other runs on data version %s: %s\n", dataset_version.c_str(), join(same_data, ", ").c_str());
  if (!check.ok) throw UserError(check.problem);
  if (missing > 0) throw UserError(run + "/audit.json: " + std::to_string(missing) + " of this run's ledger entries are missing or altered in " + ledger_path);
  return kExitOk;
}

}  // namespace

int audit_command(const Args& args, Registry&) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    if (args.empty()) throw UserError("stratum audit: no action given (verify or show); see stratum audit --help");
    std::printf("usage: stratum audit verify [LEDGER] | show --run DIR\n\n"
                "  verify  check the ledger's hash chain (and HMAC seals with the key); name the first bad entry\n"
                "  show    a run's lineage: config, data version, weights, checkpoints, exports, label changes since\n");
    return kExitOk;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "verify") return audit_verify(rest);
  if (args[0] == "show") return audit_show(rest);
  throw UserError("stratum audit: unknown action \"" + args[0] + "\" (expected verify or show)");
}

}  // namespace stratum::cli
