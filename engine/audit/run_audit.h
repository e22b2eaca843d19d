#pragma once
// What a run, an export or a labeling decision writes to the audit ledger its config names, and
// the check that keeps a run from starting on a broken chain.

#include <cstdint>
#include <string>

namespace stratum {
struct RunConfig;
struct AuditOptions;
}

namespace stratum::audit {

/// The ledger `config` records in: audit.path, or <run.output_dir>/audit.jsonl.
std::string ledger_path(const RunConfig& config);

/// The HMAC key in audit.key_env ("" when unset); a UserError naming the key when
/// audit.require_hmac and it is unset.
std::string ledger_key(const AuditOptions& options);

/// Before a run writes anything: the ledger's chain must verify (a partial last entry is fine:
/// the next append cuts it off). A broken chain is a UserError unless audit.new_chain, which
/// sets the broken file aside and starts a new chain whose first entry names it.
void check_ledger_before_run(const RunConfig& config);

/// Appends `event` to the ledger when auditing is on: the one `run_dir`'s audit.json names, else
/// `config`'s. With `run_dir`, also lists the entry in the run's audit.json (so a deleted entry
/// of the run shows in `stratum audit show`). Returns the entry's hash ("" when auditing is off).
std::string record_event(const RunConfig& config, const std::string& run_dir, const std::string& event,
                         const std::string& fields_json);

/// The run directory a checkpoint folder belongs to (the folder above its checkpoints/), or "".
std::string run_dir_of_checkpoint(const std::string& checkpoint_dir);

/// The events of one training run (its primary rank's).
class RunAudit {
 public:
  RunAudit(const RunConfig& config, std::string run_dir);

  /// Config and data as they stand when training starts; `resumed_from`: a checkpoint or "".
  void run_started(const std::string& manifest_json, const std::string& resumed_from) const;
  void checkpoint_committed(int64_t step, const std::string& checkpoint_dir) const;
  /// `status`: "finished" (eval.json is read for the key metrics) or "stopped".
  void run_finished(const std::string& status, int64_t steps, const std::string& energy_json) const;
  void promotion(int64_t step, const std::string& checkpoint_dir, const std::string& reason) const;

 private:
  const RunConfig& config_;
  std::string run_dir_;
};

}  // namespace stratum::audit
