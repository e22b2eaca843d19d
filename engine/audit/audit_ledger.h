#pragma once
// The audit ledger (audit.jsonl): an append-only, hash-chained record of runs, checkpoints,
// exports, promotions, data versions and label changes, shared by every run that names it.
// Each entry carries the SHA-256 of the entry before it and, when a key is given, an
// HMAC-SHA256 over itself, so an edit, a deletion, an insertion or a reordering shows up in
// `stratum audit verify`, and without the key a chain cannot be rewritten to hide one.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::audit {

/// One whole entry as read back: its line, where it is, and the fields every entry has.
struct LedgerEntry {
  int64_t line = 0;  ///< 1-based line in the file
  int64_t seq = 0;
  std::string event;
  std::string time;
  std::string text;  ///< the entry's JSON line, as written
  std::string hash;  ///< SHA-256 of `text`: the next entry's "prev"
};

/// What `verify_ledger` found.
struct LedgerCheck {
  bool ok = true;
  int64_t entries = 0;          ///< whole entries that verified before the first problem
  std::string problem;          ///< the first problem, naming its line and entry (empty when ok)
  int64_t problem_line = 0;
  bool incomplete_tail = false; ///< the file ends in a partial entry (a writer stopped mid-append)
  int64_t sealed = 0;           ///< entries carrying an HMAC
  std::string head_seq_hash;    ///< "seq N sha256 H" of the last verified entry
};

/// Checks the chain of `path` (and every entry's HMAC when `key` is not empty). A missing
/// file is a UserError; a partial last line is reported, not a failure.
LedgerCheck verify_ledger(const std::string& path, const std::string& key);

/// The whole entries of `path`, in file order (a partial last line is left out); a line that is
/// not a ledger entry is a UserError naming it.
std::vector<LedgerEntry> read_ledger(const std::string& path);

/// Appends entries to one ledger file under an exclusive lock, so concurrent writers (several
/// runs, several processes) never interleave or fork the chain.
class AuditLedger {
 public:
  /// `key`: the HMAC key (empty: entries are chained but not sealed).
  AuditLedger(std::string path, std::string key);

  /// Appends `event` with `fields_json` (a JSON object's text) and the common fields (seq,
  /// prev, time, host, user, pid); returns the entry as written. A partial last line left by a
  /// writer that died mid-append is cut off first (the new entry says how many bytes).
  LedgerEntry append(const std::string& event, const std::string& fields_json) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string key_;
};

/// Moves a ledger aside (to PATH.broken-<UTC time>) so a new chain can start at PATH; returns
/// the new name.
std::string set_ledger_aside(const std::string& path);

}  // namespace stratum::audit
