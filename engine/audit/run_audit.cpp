#include "engine/audit/run_audit.h"

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/read_file.h"
#include "core/sha256.h"
#include "core/torch_compat.h"
#include "core/version.h"
#include "data/redaction/redactor.h"
#include "engine/audit/audit_ledger.h"
#include "engine/config.h"

namespace fs = std::filesystem;

namespace stratum::audit {
namespace {

using json = nlohmann::ordered_json;

// The file's SHA-256, or null when it is not a readable regular file.
json file_hash(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec)) return nullptr;
  try {
    return sha256_file(path);
  } catch (const UserError&) {
    return nullptr;
  }
}

// A checkpoint is pinned by its metadata.json, which holds every file's SHA-256.
json checkpoint_hash(const std::string& dir) { return file_hash(dir + "/metadata.json"); }

json key_metrics(const std::string& eval_path) {
  const json eval = json::parse(read_file(eval_path).value_or(""), nullptr, false);
  json out = json::object();
  if (!eval.is_object() || !eval.contains("splits") || !eval["splits"].is_object()) return out;
  for (auto it = eval["splits"].begin(); it != eval["splits"].end(); ++it) {
    json metrics = json::object();
    for (const char* key : {"samples", "loss", "accuracy", "macro_f1", "perplexity"}) {
      if (it.value().is_object() && it.value().contains(key)) metrics[key] = it.value()[key];
    }
    out[it.key()] = metrics;
  }
  return out;
}

}  // namespace

std::string ledger_path(const RunConfig& config) {
  if (!config.audit.path.empty()) return config.audit.path;
  return (fs::path(config.run.output_dir) / "audit.jsonl").string();
}

std::string ledger_key(const AuditOptions& options) {
  const char* key = options.key_env.empty() ? nullptr : std::getenv(options.key_env.c_str());
  if (key && *key) return key;
  if (options.require_hmac) {
    throw UserError("audit.key_env: audit.require_hmac is set but environment variable " +
                    (options.key_env.empty() ? std::string("(none named)") : options.key_env) +
                    " holds no key to seal the ledger's entries with");
  }
  return "";
}

void check_ledger_before_run(const RunConfig& config) {
  if (!config.audit.enabled) return;
  const std::string path = ledger_path(config);
  const std::string key = ledger_key(config.audit);
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  const LedgerCheck check = verify_ledger(path, key);
  if (check.ok) return;
  if (!config.audit.new_chain) {
    throw UserError(check.problem + "; the audit ledger's chain is broken, so no run starts on it (see stratum audit verify " +
                    path + "; stratum train --new-audit-chain sets it aside and starts a new chain)");
  }
  const std::string aside = set_ledger_aside(path);
  log::warn(path + ": broken chain set aside as " + aside + " (" + check.problem + ")");
  const AuditLedger ledger(path, key);
  ledger.append("chain_started", json{{"reason", "the previous chain was broken: " + check.problem},
                                      {"previous_ledger", aside},
                                      {"previous_verified_entries", check.entries},
                                      {"previous_head", check.head_seq_hash}}
                                     .dump());
}

std::string record_event(const RunConfig& config, const std::string& run_dir, const std::string& event,
                         const std::string& fields_json) {
  if (!config.audit.enabled) return "";
  // A run keeps recording in the ledger it started in (run.output_dir may be relative to
  // another working directory by the time a checkpoint is exported).
  const std::string listing = run_dir.empty() ? "" : run_dir + "/audit.json";
  json list = listing.empty() ? json() : json::parse(read_file(listing).value_or(""), nullptr, false);
  const bool listed = list.is_object() && list.contains("ledger") && list["ledger"].is_string() && list.contains("entries") &&
                      list["entries"].is_array();
  const AuditLedger ledger(listed ? list["ledger"].get<std::string>() : ledger_path(config), ledger_key(config.audit));
  const LedgerEntry entry = ledger.append(event, fields_json);
  if (!run_dir.empty()) {
    if (!listed) list = json{{"ledger", fs::absolute(ledger.path()).string()}, {"entries", json::array()}};
    list["entries"].push_back({{"seq", entry.seq}, {"event", event}, {"sha256", entry.hash}});
    write_file_atomically(listing, list.dump(2) + "\n");
  }
  return entry.hash;
}

std::string run_dir_of_checkpoint(const std::string& checkpoint_dir) {
  for (fs::path p = fs::absolute(checkpoint_dir); p.has_parent_path() && p != p.parent_path(); p = p.parent_path()) {
    std::error_code ec;
    if (p.filename() == "checkpoints" && fs::exists(p.parent_path() / "config.resolved.yaml", ec)) return p.parent_path().string();
  }
  return "";
}

RunAudit::RunAudit(const RunConfig& config, std::string run_dir) : config_(config), run_dir_(std::move(run_dir)) {}

void RunAudit::run_started(const std::string& manifest_json, const std::string& resumed_from) const {
  const json manifest = json::parse(manifest_json, nullptr, false);
  json fields;
  fields["run"] = run_dir_;
  fields["config"] = run_dir_ + "/config.resolved.yaml";
  fields["config_sha256"] = file_hash(run_dir_ + "/config.resolved.yaml");
  fields["source_config"] = config_.sources ? config_.sources->top_file : "";
  fields["manifest_sha256"] = manifest_json.empty() ? json(nullptr) : json(sha256_hex(manifest_json));
  fields["dataset_version"] =
      manifest.is_object() && manifest.contains("dataset_version") ? manifest["dataset_version"] : json(nullptr);
  fields["stratum_version"] = stratum_version();
  fields["libtorch_version"] = compat::torch_version();
  fields["model"] = config_.model.name;
  fields["seed"] = config_.run.seed;
  json plugins = json::array();
  for (const std::string& p : config_.plugins) plugins.push_back({{"path", p}, {"sha256", file_hash(p)}});
  fields["plugins"] = plugins;
  if (!config_.model.init_from.empty()) {
    std::error_code ec;
    const bool dir = fs::is_directory(config_.model.init_from, ec);
    fields["base_weights"] = {{"path", config_.model.init_from},
                              {"sha256", dir ? checkpoint_hash(config_.model.init_from) : file_hash(config_.model.init_from)}};
  }
  if (!resumed_from.empty()) fields["resumed_from"] = {{"checkpoint", resumed_from}, {"sha256", checkpoint_hash(resumed_from)}};
  fields["redaction"] = config_.data.redact.active() ? json::parse(data::redaction_policy_json(config_.data.redact)) : json(nullptr);
  record_event(config_, run_dir_, "run_started", fields.dump());
}

void RunAudit::checkpoint_committed(int64_t step, const std::string& checkpoint_dir) const {
  record_event(config_, run_dir_, "checkpoint_committed",
               json{{"run", run_dir_}, {"step", step}, {"checkpoint", checkpoint_dir}, {"sha256", checkpoint_hash(checkpoint_dir)}}
                   .dump());
}

void RunAudit::run_finished(const std::string& status, int64_t steps, const std::string& energy_json) const {
  json fields{{"run", run_dir_}, {"status", status}, {"steps", steps}};
  if (status == "finished") {
    fields["eval_sha256"] = file_hash(run_dir_ + "/eval.json");
    fields["metrics"] = key_metrics(run_dir_ + "/eval.json");
  }
  fields["energy"] = energy_json.empty() ? json(nullptr) : json::parse(energy_json, nullptr, false);
  record_event(config_, run_dir_, "run_finished", fields.dump());
}

void RunAudit::promotion(int64_t step, const std::string& checkpoint_dir, const std::string& reason) const {
  record_event(config_, run_dir_, "promotion",
               json{{"run", run_dir_}, {"step", step}, {"checkpoint", checkpoint_dir}, {"sha256", checkpoint_hash(checkpoint_dir)},
                    {"reason", reason}}
                   .dump());
}

}  // namespace stratum::audit
