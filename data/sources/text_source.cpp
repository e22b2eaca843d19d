#include "data/sources/text_source.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "core/text.h"
#include "data/quality/weak_labels.h"
#include "data/record_fields.h"
#include "data/redaction/redactor.h"
#include "data/reject_log.h"
#include "data/sources/fortune_file.h"
#include "data/sources/input_paths.h"
#include "data/sources/line_reader.h"
#include "data/sources/parquet_rows.h"
#include "data/splits/assemble.h"
#include "data/splits/stream_splitter.h"
#include "data/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// Label names go into manifests, reports and JSON files: one line of valid UTF-8, bounded.
constexpr size_t kMaxLabelBytes = 256;

// Adds label `name`, or explains why it cannot be used.
std::optional<std::string> add_label(const std::string& name, LabelVocabulary& labels, Record& record) {
  if (name.empty()) return "empty label";
  if (const size_t bad = invalid_utf8_at(name); bad != std::string::npos) {
    return "label \"" + printable(name, 60) + "\" is not valid UTF-8 (byte " + std::to_string(bad) + ")";
  }
  if (name.size() > kMaxLabelBytes) {
    return "label of " + std::to_string(name.size()) + " bytes (at most " + std::to_string(kMaxLabelBytes) + ")";
  }
  const int32_t id = labels.id(name);
  if (id < 0 && labels.fixed()) return "unknown label \"" + printable(name, 60) + "\" (not in data.labels)";
  if (id < 0) {
    return "label \"" + printable(name, 60) + "\" would exceed " + std::to_string(labels.max_labels()) +
           " distinct labels (data.max_classes)";
  }
  record.labels.push_back(id);
  return std::nullopt;
}

// Why a JSON line cannot be parsed before trying: JSON text must be UTF-8.
std::optional<std::string> utf8_problem(const std::string& line) {
  const size_t bad = invalid_utf8_at(line);
  if (bad == std::string::npos) return std::nullopt;
  return "invalid UTF-8 at byte " + std::to_string(bad) + " of the line";
}

// Integer class ids (Hugging Face datasets' ClassLabel columns) are labels named by their digits.
std::string label_name(const nlohmann::json& value) {
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::optional<std::string> parse_jsonl(const std::string& line, const TextOptions& options, LabelVocabulary& labels,
                                       Record& record, bool need_label, const std::vector<std::string>& fields) {
  if (auto problem = utf8_problem(line)) return problem;
  const nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return std::string("malformed JSON");
  if (!object.is_object()) return std::string("not a JSON object");
  const auto text = object.find(options.text_field);
  if (text == object.end() || !text->is_string()) return "missing string field \"" + options.text_field + "\"";
  record.payload = text->get<std::string>();
  for (const auto& field : options.label_fields) {
    const auto value = object.find(field);
    if (value == object.end()) return "missing label field \"" + field + "\"";
    if (value->is_string() || value->is_number_integer()) {
      if (auto problem = add_label(label_name(*value), labels, record)) return problem;
    } else if (value->is_array()) {
      for (const auto& item : *value) {
        if (!item.is_string() && !item.is_number_integer()) return "label field \"" + field + "\" holds a value that is neither a string nor an integer";
        if (auto problem = add_label(label_name(item), labels, record)) return problem;
      }
    } else {
      return "label field \"" + field + "\" is neither a string, an integer nor a list of them";
    }
  }
  if (record.labels.empty() && need_label) return std::string("no label");
  if (!options.time_field.empty()) {
    const auto time = object.find(options.time_field);
    if (time == object.end() || !time->is_number()) return "missing numeric field \"" + options.time_field + "\"";
    record.time = time->get<double>();
  }
  for (const auto& field : options.feature_fields) {
    const auto value = object.find(field);
    if (value == object.end() || !value->is_number()) return "missing numeric field \"" + field + "\"";
    const double v = value->get<double>();
    if (!std::isfinite(v)) return "non-finite value in \"" + field + "\"";
    record.features.push_back(static_cast<float>(v));
  }
  if (!fields.empty()) record.fields = json_fields(object, fields);
  return std::nullopt;
}

// The facts a line source records about one file: what it read, hashed as it went.
SourceFile line_file(const std::string& role, const std::string& path) {
  SourceFile file;
  file.role = role;
  file.path = path;
  return file;
}

void finish_file(SourceFile& file, const LineReader& reader) {
  file.bytes_read = reader.bytes_read();
  file.sha256 = reader.sha256();
  file.read_to_end = reader.at_end();
}

// Feeds records to the splitter, counts and budgets rejects, and assembles the splits. Every
// line is accounted for in its file: a record accepted, a record rejected, or a blank line.
class TextReading {
 public:
  // `known_labels`: the class names when the source knows them before reading (fortunes).
  TextReading(const DataOptions& options, const DataContext& context, const std::vector<std::string>& known_labels,
              UnseenIds unseen)
      : options_(options),
        context_(context),
        rejects_(context.rejects_path, context.append_rejects),
        labels_(options.labels.empty() ? known_labels : options.labels, static_cast<size_t>(options.max_classes)),
        tokenizer_(configured_tokenizer(options.tokenizer)),
        splitter_(options, context, std::move(unseen)),
        redactor_(options.redact) {
    if (static_cast<int64_t>(labels_.names().size()) > options.max_classes) {
      throw UserError("data.max_classes: the source names " + std::to_string(labels_.names().size()) +
                      " labels, more than " + std::to_string(options.max_classes));
    }
  }

  LabelVocabulary& labels() { return labels_; }

  // Offers a parsed record; returns false once the splitter wants no more (the record is
  // then not counted: it was never taken).
  bool add(Record& record, SourceFile& file) {
    const bool mine = index_ % context_.world_size == context_.rank;
    if (!splitter_.add(index_, record)) return false;
    ++index_;
    if (mine) ++file.records_read, ++file.records_accepted;
    return true;
  }

  void reject(SourceFile& file, uint64_t offset, uint64_t line, const std::string& reason) {
    if (count_reject(file)) rejects_.reject(file.path, offset, reason, 1, line);
  }

  // Applies data.redact to a line (or a record's text) before it is parsed, so nothing kept,
  // rejected or logged holds what the policy removes. False when the policy drops the record
  // (it is then accounted for in rejects.jsonl).
  bool redact(std::string& text, TextFormat format, SourceFile& file, uint64_t offset, uint64_t line) {
    const std::string dropped_by = redactor_.redact_line(text, format);
    if (dropped_by.empty()) return true;
    if (count_reject(file)) rejects_.drop_by_policy(file.path, offset, line, "dropped by data.redact: it holds " + dropped_by);
    return false;
  }

  // A table's rows are named by number, not by byte.
  void reject_row(SourceFile& file, uint64_t row, const std::string& reason) {
    if (count_reject(file)) rejects_.reject_row(file.path, row, reason);
  }

  SplitData finish(std::vector<SourceFile> files, const std::string& what) {
    splitter_.finish();
    int64_t blank = 0;
    for (const SourceFile& f : files) blank += f.blank_lines;
    if (splitter_.records_accepted() == 0 && rejects_.total() == 0 && index_ == 0) {
      throw UserError("data.path: " + what + ": no records (" +
                      (blank > 0 ? "only " + std::to_string(blank) + " blank lines" : std::string("the input is empty")) +
                      ")");
    }
    rejects_.check_budget(splitter_.records_accepted(), options_.max_reject_fraction);
    SourceFacts facts;
    facts.spec = text_spec(options_, tokenizer_.get());
    facts.tokenizer = tokenizer_;
    facts.spec.class_names = labels_.names();
    facts.spec.num_classes = static_cast<int64_t>(labels_.names().size());
    facts.unseen_description = "held out from the stream by " + std::string(choice_name(options_.unseen.by));
    if (options_.unseen.by == UnseenBy::label) facts.unseen_description += " (" + join(options_.unseen.labels, ", ") + ")";
    if (options_.unseen.by == UnseenBy::source) facts.unseen_description += " (" + join(options_.unseen.sources, ", ") + ")";
    facts.files = std::move(files);
    facts.records_rejected = rejects_.total();
    facts.blank_lines = blank;
    facts.redaction = redactor_.counts();
    return assemble_splits(splitter_, std::move(facts), options_, context_);
  }

 private:
  // Takes a rejected record's place in the stream; true when it is this rank's to record.
  bool count_reject(SourceFile& file) {
    if (index_++ % context_.world_size != context_.rank) return false;
    ++file.records_read, ++file.records_rejected;
    return true;
  }

  const DataOptions& options_;
  DataContext context_;
  RejectLog rejects_;
  LabelVocabulary labels_;
  std::shared_ptr<const Tokenizer> tokenizer_;
  StreamSplitter splitter_;
  Redactor redactor_;
  int64_t index_ = 0;  // records offered or rejected so far (all ranks')
};


// Text sources have no held-out file; a single text file has no sources to hold out (several,
// from a pattern, do), and its labels are only known once read.
void check_unseen(const DataOptions& options, bool multi_file) {
  const UnseenBy by = options.unseen.by;
  const bool labels_known = multi_file || !options.labels.empty();
  if (by == UnseenBy::file || (by == UnseenBy::source && !multi_file) || (by == UnseenBy::label && !labels_known)) {
    throw UserError("data.unseen.by: \"" + std::string(choice_name(by)) + "\" is not available for this text source; use time" +
                    std::string(labels_known ? ", label" : "") + (multi_file ? ", source" : "") + " or none" +
                    (by == UnseenBy::label ? " (or list data.labels)" : ""));
  }
}

}  // namespace

DataSpec text_spec(const DataOptions& options, const Tokenizer* tokenizer) {
  DataSpec spec = byte_token_spec(options.text.max_length);
  if (tokenizer) {
    spec.vocab_size = tokenizer->vocab_size();
    spec.pad_token = tokenizer->pad_id();
  }
  return spec;
}

std::shared_ptr<const Tokenizer> configured_tokenizer(const TokenizerOptions& options) {
  if (options.path.empty()) return nullptr;
  return load_tokenizer(options.path);
}


std::optional<std::string> parse_text_line(const std::string& line, const TextOptions& options,
                                           LabelVocabulary& labels, Record& record, bool need_label,
                                           const std::vector<std::string>& fields) {
  record = Record{};
  if (options.format == TextFormat::jsonl) return parse_jsonl(line, options, labels, record, need_label, fields);
  if (options.format == TextFormat::plain) {
    if (need_label) return std::string("no label (data.text.format: plain documents are for stratum data prepare)");
    record.payload = line;
    return std::nullopt;
  }
  const auto cut = line.find(options.separator);
  if (cut == std::string::npos) return "no \"" + options.separator + "\" between label and text";
  if (auto problem = add_label(line.substr(0, cut), labels, record)) return problem;
  record.payload = line.substr(cut + options.separator.size());
  return std::nullopt;
}

namespace {

// Ids of the files `data.unseen.sources` names (by path as matched, or by file name).
std::vector<uint32_t> resolve_unseen_files(const DataOptions& options, const std::vector<std::string>& paths) {
  std::vector<uint32_t> ids;
  if (options.unseen.by != UnseenBy::source) return ids;
  std::vector<std::string> names;
  for (const std::string& path : paths) names.push_back(fs::path(path).filename().string());
  for (const std::string& wanted : options.unseen.sources) {
    bool found = false;
    for (size_t i = 0; i < paths.size(); ++i) {
      if (paths[i] == wanted || names[i] == wanted) ids.push_back(static_cast<uint32_t>(i)), found = true;
    }
    if (!found) {
      throw UserError("data.unseen.sources: no input file \"" + wanted + "\" among the " + std::to_string(paths.size()) +
                      " that " + options.path + " matches" +
                      (nearest(wanted, names).empty() ? "" : " (did you mean " + nearest(wanted, names) + "?)"));
    }
  }
  return ids;
}

}  // namespace

SplitData read_text_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the text source needs a file, a pattern (logs/*.jsonl.gz) or - for standard input");
  if (options.text.format == TextFormat::plain) {
    throw UserError("data.text.format: plain lines carry no label; train a classifier on lines or jsonl, or turn plain "
                    "text into token shards with stratum data prepare (data.source: token_shards)");
  }
  const std::vector<std::string> paths = input_paths(options.path, "data.path");
  check_unseen(options, /*multi_file=*/paths.size() > 1);
  TextReading reading(options, context, {},
                      {resolve_unseen_labels(options, options.labels), resolve_unseen_files(options, paths)});
  std::vector<SourceFile> files;
  std::string line;
  int64_t accepted = 0;
  bool more = true;
  for (size_t f = 0; f < paths.size() && more; ++f) {
    LineReader reader(paths[f]);
    SourceFile file = line_file("text", paths[f]);
    while (reader.next(line)) {
      if (line.empty()) {
        ++file.blank_lines;
        continue;
      }
      if (!reader.truncated() &&
          !reading.redact(line, options.text.format, file, reader.line_offset(), reader.line_number())) {
        continue;
      }
      Record record;
      const auto problem = reader.truncated() ? std::optional<std::string>(LineReader::too_long("line"))
                                              : parse_text_line(line, options.text, reading.labels(), record,
                                                                /*need_label=*/true, context.slice_fields);
      if (problem) {
        reading.reject(file, reader.line_offset(), reader.line_number(), *problem);
        continue;
      }
      if (options.text.time_field.empty()) record.time = static_cast<double>(accepted);
      record.origin = {static_cast<uint32_t>(f), reader.line_offset()};
      if (!reading.add(record, file)) {
        more = false;
        break;
      }
      ++accepted;
    }
    finish_file(file, reader);
    files.push_back(std::move(file));
  }
  return reading.finish(std::move(files), options.path);
}

SplitData read_parquet_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the parquet source needs a file or a pattern (data/train-*.parquet)");
  const std::vector<std::string> paths = input_paths(options.path, "data.path");
  check_unseen(options, /*multi_file=*/paths.size() > 1);
  // A row becomes the JSON object of its columns and is then read exactly as a JSONL line.
  TextOptions text = options.text;
  text.format = TextFormat::jsonl;
  std::vector<std::string> required = text.label_fields;
  required.push_back(text.text_field);
  if (!text.time_field.empty()) required.push_back(text.time_field);
  required.insert(required.end(), text.feature_fields.begin(), text.feature_fields.end());
  std::vector<std::string> optional;
  for (const std::string& field : context.slice_fields) optional.push_back(field.substr(0, field.find('.')));

  TextReading reading(options, context, {},
                      {resolve_unseen_labels(options, options.labels), resolve_unseen_files(options, paths)});
  std::vector<SourceFile> files;
  int64_t accepted = 0;
  bool more = true;
  ParquetRow row;
  for (size_t f = 0; f < paths.size() && more; ++f) {
    ParquetRows rows(paths[f], required, optional);
    SourceFile file = line_file("parquet", paths[f]);
    while (rows.next(row)) {
      const auto offset = static_cast<uint64_t>(row.index);
      if (!row.problem && !reading.redact(row.json, TextFormat::jsonl, file, offset, 0)) continue;
      Record record;
      const auto problem = row.problem ? row.problem
                                       : parse_text_line(row.json, text, reading.labels(), record, /*need_label=*/true,
                                                         context.slice_fields);
      if (problem) {
        reading.reject_row(file, offset, *problem);
        continue;
      }
      if (text.time_field.empty()) record.time = static_cast<double>(accepted);
      record.origin = {static_cast<uint32_t>(f), offset};
      if (!reading.add(record, file)) {
        more = false;
        break;
      }
      ++accepted;
    }
    file.read_to_end = more;
    file.bytes_read = static_cast<uint64_t>(fs::file_size(paths[f]));
    file.sha256 = sha256_file(paths[f]);
    files.push_back(std::move(file));
  }
  return reading.finish(std::move(files), options.path);
}

SplitData read_weak_label_source(const DataOptions& options, const DataContext& context) {
  const WeakLabelOptions& weak = options.weak_labels;
  if (options.path.empty()) throw UserError("data.path: the weak_labels source needs a JSONL file of items");
  if (weak.votes.empty()) throw UserError("data.weak_labels.votes: the weak_labels source needs a CSV of votes");
  check_unseen(options, /*multi_file=*/false);
  const VoteTable votes = read_votes(weak.votes, weak.item_field);
  const WeakLabelResult combined = combine_votes(votes, weak.method);
  std::map<std::string, size_t> row_of;
  for (size_t i = 0; i < votes.items.size(); ++i) row_of.emplace(votes.items[i], i);
  for (size_t f = 0; f < votes.functions.size(); ++f) {
    log::info("weak labels: " + votes.functions[f] + " covers " + format_number(combined.coverage[f]) +
              ", estimated accuracy " + format_number(combined.accuracy[f]) + ", weight " + format_number(combined.weight[f]));
  }

  TextReading reading(options, context, options.labels.empty() ? votes.labels : std::vector<std::string>{},
                      {resolve_unseen_labels(options, options.labels.empty() ? votes.labels : options.labels), {}});
  LineReader reader(options.path);
  SourceFile file = line_file("weak-label items", options.path);
  std::string line;
  int64_t accepted = 0;
  while (reader.next(line)) {
    if (line.empty()) {
      ++file.blank_lines;
      continue;
    }
    const auto reject = [&](const std::string& why) {
      reading.reject(file, reader.line_offset(), reader.line_number(), why);
    };
    if (reader.truncated()) {
      reject(LineReader::too_long("line"));
      continue;
    }
    if (!reading.redact(line, TextFormat::jsonl, file, reader.line_offset(), reader.line_number())) continue;
    if (auto problem = utf8_problem(line)) {
      reject(*problem);
      continue;
    }
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) {
      reject("not a JSON object");
      continue;
    }
    const auto id = object.find(weak.item_field);
    const auto text = object.find(options.text.text_field);
    if (id == object.end() || !(id->is_string() || id->is_number_integer())) {
      reject("missing item field \"" + weak.item_field + "\"");
      continue;
    }
    if (text == object.end() || !text->is_string()) {
      reject("missing string field \"" + options.text.text_field + "\"");
      continue;
    }
    const std::string key = id->is_string() ? id->get<std::string>() : std::to_string(id->get<int64_t>());
    const auto row = row_of.find(key);
    if (row == row_of.end()) {
      reject("no votes for item \"" + printable(key, 60) + "\" in " + weak.votes);
      continue;
    }
    const WeakLabel& label = combined.labels[row->second];
    if (label.label < 0) {
      reject(label.votes == 0 ? "every labeling function abstained" : "the labeling functions' votes are tied");
      continue;
    }
    if (label.confidence < weak.min_confidence) {
      reject("weak label confidence " + format_number(label.confidence) + " below data.weak_labels.min_confidence");
      continue;
    }
    Record record;
    if (auto problem = add_label(votes.labels[static_cast<size_t>(label.label)], reading.labels(), record)) {
      reject(*problem);
      continue;
    }
    record.payload = text->get<std::string>();
    record.time = static_cast<double>(accepted);
    record.origin.offset = reader.line_offset();
    if (!reading.add(record, file)) break;
    ++accepted;
  }
  finish_file(file, reader);
  SourceFile votes_file = line_file("votes", weak.votes);
  return reading.finish({file, votes_file}, options.path);
}

SplitData read_fortunes_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the fortunes source needs a folder such as /usr/share/games/fortunes");
  check_unseen(options, /*multi_file=*/true);
  const std::vector<std::string> paths = fortune_files(options.path);

  // Every file is a label and a source: both are known before reading.
  std::vector<std::string> names;
  for (const std::string& path : paths) names.push_back(fs::path(path).filename().string());
  UnseenIds unseen{resolve_unseen_labels(options, options.labels.empty() ? names : options.labels), {}};
  for (const std::string& wanted : options.unseen.by == UnseenBy::source ? options.unseen.sources : std::vector<std::string>{}) {
    const auto it = std::find(names.begin(), names.end(), wanted);
    if (it == names.end()) {
      throw UserError("data.unseen.sources: no fortune file \"" + wanted + "\" in " + options.path +
                      (nearest(wanted, names).empty() ? "" : " (did you mean " + nearest(wanted, names) + "?)"));
    }
    unseen.sources.push_back(static_cast<uint32_t>(it - names.begin()));
  }
  TextReading reading(options, context, names, std::move(unseen));
  std::vector<SourceFile> files;
  int64_t time = 0;
  bool more = true;
  for (size_t file_index = 0; file_index < paths.size() && more; ++file_index) {
    const std::string& path = paths[file_index];
    const std::string& label = names[file_index];
    LineReader reader(path);
    SourceFile file = line_file("fortunes/" + label, path);
    more = read_fortune_records(reader, [&](const FortuneRecord& fortune) {
      Record record;
      record.payload = fortune.text;
      if (fortune.too_long) {
        reading.reject(file, fortune.offset, fortune.line, LineReader::too_long("record"));
      } else if (!reading.redact(record.payload, TextFormat::plain, file, fortune.offset, fortune.line)) {
        return true;
      } else if (auto problem = add_label(label, reading.labels(), record)) {
        reading.reject(file, fortune.offset, fortune.line, *problem);
      } else {
        record.time = static_cast<double>(time++);
        record.origin = {static_cast<uint32_t>(file_index), fortune.offset};
        return reading.add(record, file);
      }
      return true;
    });
    finish_file(file, reader);
    files.push_back(file);
  }
  return reading.finish(std::move(files), options.path);
}

}  // namespace stratum::data
