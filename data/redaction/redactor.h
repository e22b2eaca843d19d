#pragma once
// data.redact at work: finds e-mail addresses, phone numbers, IP addresses, card numbers, IBANs
// and the user's own patterns in every string of a record and masks, hashes or drops them, before
// the record is parsed, kept, rejected or logged. RE2 stays behind the .cpp wall.

#include <memory>
#include <string>

#include "data/data_options.h"
#include "data/redaction/redaction_counts.h"

namespace stratum::data {

/// A compiled `data.redact` policy; one per reading thread (it counts as it goes).
class Redactor {
 public:
  /// Compiles every pattern once. A pattern that does not compile, a bad pattern name, or hash
  /// without its key in the environment is a UserError naming the key.
  explicit Redactor(const RedactOptions& options);
  ~Redactor();
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  bool active() const;
  /// Redacts free text in place. Returns the name of the drop_record detector that fired (the
  /// caller leaves the record out), or "".
  std::string redact_text(std::string& text);
  /// Redacts a JSON object line in place: named fields first, then every string and integer
  /// value. Text that is not a JSON object is redacted as free text (it will be rejected, and
  /// its reason must not leak what it holds).
  std::string redact_json(std::string& line);
  /// A line as `format` reads it: jsonl lines as JSON, the others as free text.
  std::string redact_line(std::string& line, TextFormat format);

  const RedactionCounts& counts() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// The policy as JSON (detectors and actions, patterns, fields; never the key): what the
/// manifest, the dataset version and the audit ledger record.
std::string redaction_policy_json(const RedactOptions& options);

}  // namespace stratum::data
