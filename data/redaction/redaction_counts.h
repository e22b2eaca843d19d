#pragma once
// What redaction did to the records one reader saw (counts only, never the values): the
// manifest's "redaction" section.

#include <cstdint>
#include <map>
#include <string>

namespace stratum::data {

/// Values redacted per detector and records changed or dropped.
struct RedactionCounts {
  std::map<std::string, int64_t> findings;  ///< detector, pattern or "field:PATH" -> values redacted
  int64_t records_changed = 0;              ///< records with at least one value redacted
  int64_t records_dropped = 0;              ///< records left out by a drop_record detector

  void add(const RedactionCounts& other) {
    for (const auto& [name, n] : other.findings) findings[name] += n;
    records_changed += other.records_changed;
    records_dropped += other.records_dropped;
  }
};

}  // namespace stratum::data
