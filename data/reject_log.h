#pragma once
// Rejected records are never dropped silently: each is counted per source and written to
// rejects.jsonl with its source, byte offset (and line, for line sources; row, for tables) and reason, and the
// run stops with exit 2 once the share of rejects passes the configured error budget.

#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace stratum::data {

/// Counts rejected records and appends them to a JSONL file.
class RejectLog {
 public:
  /// Writes one JSON line per rejection to `path` (created empty at once, or appended to with
  /// `append`: the later sources of a mix); with an empty path it only counts (tools that
  /// read data without a run directory).
  explicit RejectLog(const std::string& path = "", bool append = false);
  ~RejectLog();
  RejectLog(const RejectLog&) = delete;
  RejectLog& operator=(const RejectLog&) = delete;

  /// Records that `records` records at byte `offset` of `source` (for line sources also its
  /// 1-based `line`; 0: not line-oriented) were rejected for `reason`.
  void reject(const std::string& source, uint64_t offset, const std::string& reason, int64_t records = 1,
              uint64_t line = 0);

  /// Records that a record was left out by policy (data.redact's drop_record): written and
  /// counted like a rejection (with "policy": true), but not held against the error budget.
  void drop_by_policy(const std::string& source, uint64_t offset, uint64_t line, const std::string& reason);
  int64_t dropped_by_policy() const { return dropped_by_policy_; }

  /// Records that row `row` (0-based) of a table file `source` (Parquet) was rejected for `reason`.
  void reject_row(const std::string& source, uint64_t row, const std::string& reason);

  /// Carries on the count and first rejection of an earlier log of the same file (a resumed
  /// continuous run appends to the rejects of its checkpoint).
  void continue_counts(int64_t total, const std::string& first) {
    total_ = total;
    first_ = first;
  }
  const std::string& first() const { return first_; }

  int64_t total() const { return total_; }
  const std::map<std::string, int64_t>& by_source() const { return by_source_; }

  /// Throws UserError when rejected / (accepted + rejected) exceeds `max_fraction`, naming the
  /// source and reason of the first rejection.
  void check_budget(int64_t accepted, double max_fraction) const;

 private:
  // Counts, keeps the first for check_budget's message (`where` follows the source's name)
  // and appends the JSON line, `position` naming where in the source the record was.
  void record(const std::string& source, const std::string& where, const std::string& reason, int64_t records,
              const std::vector<std::pair<const char*, uint64_t>>& position, bool by_policy = false);

  std::FILE* file_ = nullptr;
  std::string path_;
  int64_t total_ = 0;
  int64_t dropped_by_policy_ = 0;
  std::map<std::string, int64_t> by_source_;
  std::string first_;  // "source line L (byte N): reason"
};

}  // namespace stratum::data
