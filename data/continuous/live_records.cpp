#include "data/continuous/live_records.h"

#include "core/error.h"
#include "core/log.h"
#include "core/text.h"
#include "data/redaction/redactor.h"
#include "data/sources/synthetic_source.h"
#include "data/sources/text_source.h"
#include "data/tokenizer/tokenizer.h"

namespace stratum::data {

LiveRecords::LiveRecords(const DataOptions& options, const DataContext& context, const StreamPosition* resume)
    : options_(options), context_(context) {
  if (options.source == "synthetic") {
    const SyntheticOptions& s = options.synthetic;
    spec_.kind = InputKind::features;
    spec_.input_shape = {s.features};
    spec_.num_classes = s.classes;
    for (int64_t c = 0; c < s.classes; ++c) spec_.class_names.push_back("class" + std::to_string(c));
    synthetic_ = std::make_unique<SyntheticStream>(s, context.seed, 1);
    // The generator is replayable: a resumed stream regenerates (and drops) what was committed.
    if (resume) {
      for (; generated_ < resume->sequence; ++generated_) synthetic_->next();
    }
    return;
  }
  if (options.source != "text") {
    throw UserError("data.source: \"" + options.source + "\" cannot be read as a live stream; a continuous run reads "
                    "source: text (lines or jsonl, from a file, a folder, standard input or TCP) or source: synthetic");
  }
  if (options.labels.empty()) {
    throw UserError("data.labels: a continuous run's classes are fixed before the stream starts; list them (records "
                    "with other labels are rejected)");
  }
  if (options.text.format == TextFormat::plain) {
    throw UserError("data.text.format: plain text has no labels to train a classifier on; use lines or jsonl");
  }
  tokenizer_ = configured_tokenizer(options.tokenizer);
  spec_ = text_spec(options, tokenizer_.get());
  spec_.class_names = options.labels;
  spec_.num_classes = static_cast<int64_t>(options.labels.size());
  labels_ = std::make_unique<LabelVocabulary>(options.labels, static_cast<size_t>(options.max_classes));
  redactor_ = std::make_unique<Redactor>(options.redact);
  input_ = open_live_input(options, resume);
}

LiveRecords::~LiveRecords() = default;

InputStatus LiveRecords::next(LiveItem& item, double timeout_seconds) {
  item = LiveItem{};
  if (synthetic_) {
    if (generated_ >= static_cast<uint64_t>(options_.synthetic.records)) return InputStatus::ended;
    item.record = synthetic_->next();
    item.problem = SyntheticStream::validate(item.record, options_.synthetic.classes, options_.synthetic.features);
    item.source = "synthetic";
    item.offset = generated_;
    item.after.sequence = ++generated_;
    return InputStatus::line;
  }
  InputLine line;
  const InputStatus status = input_->next(line, timeout_seconds);
  if (status != InputStatus::line) return status;
  item.source = line.source;
  item.offset = line.offset;
  item.line = line.line;
  item.after = line.after;
  item.problem = line.problem;
  if (item.problem.empty()) {
    if (line.text.empty()) {
      item.blank = true;
    } else if (const size_t bad = invalid_utf8_at(line.text); bad != std::string::npos) {
      // Stream text goes on into rejects, reports and JSON files: valid UTF-8 only.
      item.problem = "not valid UTF-8 (byte " + std::to_string(bad) + ")";
    } else if (const std::string dropped_by = redactor_->redact_line(line.text, options_.text.format); !dropped_by.empty()) {
      item.problem = "dropped by data.redact: it holds " + dropped_by;
      item.by_policy = true;
    } else if (auto problem = parse_text_line(line.text, options_.text, *labels_, item.record, true, context_.slice_fields)) {
      item.problem = *problem;
    }
  }
  item.record.origin.offset = line.offset;
  // Without a time field, time is the arrival order (what reservoir decay weighs by).
  if (options_.text.time_field.empty()) item.record.time = static_cast<double>(line.after.sequence);
  return InputStatus::line;
}

bool LiveRecords::replayable() const { return synthetic_ || input_->replayable(); }

std::string LiveRecords::describe() const {
  return synthetic_ ? "generating the synthetic stream" : input_->describe();
}

}  // namespace stratum::data
