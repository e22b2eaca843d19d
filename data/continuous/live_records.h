#pragma once
// The records of a live stream: a live input's lines parsed as `data.text` says (source: text),
// or the synthetic generator (source: synthetic), each with the stream position after it.

#include <cstdint>
#include <memory>
#include <string>

#include "core/data_spec.h"
#include "data/continuous/live_input.h"
#include "data/data_options.h"
#include "data/label_vocabulary.h"
#include "data/record.h"
#include "data/split_data.h"

namespace stratum::data {

class Redactor;
class SyntheticStream;
class Tokenizer;

/// One record read from a live stream, or a rejected line, with the position after it.
struct LiveItem {
  Record record;
  std::string problem;   ///< non-empty: rejected for this reason
  std::string source;    ///< rejects.jsonl's source
  uint64_t offset = 0;   ///< byte offset (or record index) in that source
  uint64_t line = 0;     ///< 1-based line, 0 for generated records
  bool blank = false;    ///< an empty line: not a record, counted apart
  bool by_policy = false;  ///< left out by data.redact's drop_record (not held against the error budget)
  StreamPosition after;
};

/// A live stream of records; its spec is known before the first record (fixed classes).
class LiveRecords {
 public:
  /// A UserError names the key when the source cannot be read live (another source kind, text
  /// without data.labels) and when the input cannot be opened.
  LiveRecords(const DataOptions& options, const DataContext& context, const StreamPosition* resume);
  ~LiveRecords();

  /// Waits at most `timeout_seconds` for the next record or rejected line.
  InputStatus next(LiveItem& item, double timeout_seconds);

  /// Classes, input kind and shape (standardization is learned later, from the reservoirs).
  const DataSpec& spec() const { return spec_; }
  std::shared_ptr<const Tokenizer> tokenizer() const { return tokenizer_; }
  bool replayable() const;
  std::string describe() const;

 private:
  const DataOptions& options_;
  DataContext context_;
  DataSpec spec_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  std::unique_ptr<LiveInput> input_;              // text
  std::unique_ptr<LabelVocabulary> labels_;       // text
  std::unique_ptr<SyntheticStream> synthetic_;    // synthetic
  std::unique_ptr<Redactor> redactor_;            // text
  uint64_t generated_ = 0;
};

}  // namespace stratum::data
