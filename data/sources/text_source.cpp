#include "data/sources/text_source.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text.h"
#include "core/log.h"
#include "data/quality/weak_labels.h"
#include "data/reject_log.h"
#include "data/sources/line_reader.h"
#include "data/splits/assemble.h"
#include "data/splits/stream_splitter.h"
#include "data/tokenizer/byte_bpe.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// Adds label `name`, or explains why it cannot be used.
std::optional<std::string> add_label(const std::string& name, LabelVocabulary& labels, Record& record) {
  if (name.empty()) return "empty label";
  const int32_t id = labels.id(name);
  if (id < 0 && labels.fixed()) return "unknown label \"" + name + "\" (not in data.labels)";
  if (id < 0) return "label \"" + name + "\" would exceed " + std::to_string(LabelVocabulary::kMaxLabels) + " distinct labels";
  record.labels.push_back(id);
  return std::nullopt;
}

std::optional<std::string> parse_jsonl(const std::string& line, const TextSection& options, LabelVocabulary& labels,
                                       Record& record) {
  const nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return std::string("malformed JSON");
  if (!object.is_object()) return std::string("not a JSON object");
  const auto text = object.find(options.text_field);
  if (text == object.end() || !text->is_string()) return "missing string field \"" + options.text_field + "\"";
  record.payload = text->get<std::string>();
  for (const auto& field : options.label_fields) {
    const auto value = object.find(field);
    if (value == object.end()) return "missing label field \"" + field + "\"";
    if (value->is_string()) {
      if (auto problem = add_label(value->get<std::string>(), labels, record)) return problem;
    } else if (value->is_array()) {
      for (const auto& item : *value) {
        if (!item.is_string()) return "label field \"" + field + "\" holds a non-string";
        if (auto problem = add_label(item.get<std::string>(), labels, record)) return problem;
      }
    } else {
      return "label field \"" + field + "\" is neither a string nor a list of strings";
    }
  }
  if (record.labels.empty()) return std::string("no label");
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
  return std::nullopt;
}

// Tokens of max_length ids: bytes and a padding id, or the configured tokenizer's vocabulary.
DataSpec text_spec(const DataSection& options, const BytePairTokenizer* tokenizer) {
  DataSpec spec = byte_token_spec(options.text.max_length);
  if (tokenizer) {
    spec.vocab_size = tokenizer->vocab_size();
    spec.pad_token = tokenizer->pad_id();
  }
  return spec;
}

std::shared_ptr<const BytePairTokenizer> configured_tokenizer(const TokenizerSection& options) {
  if (options.path.empty()) return nullptr;
  return std::make_shared<const BytePairTokenizer>(BytePairTokenizer::load(options.path));
}

// Feeds records to the splitter, budgets rejects, and assembles the splits.
class TextReading {
 public:
  // `known_labels`: the class names when the source knows them before reading (fortunes).
  TextReading(const DataSection& options, const DataContext& context, const std::vector<std::string>& known_labels,
              UnseenIds unseen)
      : options_(options),
        context_(context),
        rejects_(context.rejects_path),
        labels_(options.labels.empty() ? known_labels : options.labels),
        tokenizer_(configured_tokenizer(options.tokenizer)),
        splitter_(options, context, std::move(unseen)) {}

  LabelVocabulary& labels() { return labels_; }

  // Returns false when the splitter wants no more records.
  bool add(Record& record) { return splitter_.add(index_++, record); }
  void reject(const std::string& source, uint64_t offset, const std::string& reason) {
    if (index_++ % context_.world_size == context_.rank) rejects_.reject(source, offset, reason);
  }

  SplitData finish(std::vector<SourceFile> files) {
    splitter_.finish();
    rejects_.check_budget(splitter_.records_read(), options_.max_reject_fraction);
    SourceFacts facts;
    facts.spec = text_spec(options_, tokenizer_.get());
    facts.tokenizer = tokenizer_;
    facts.spec.class_names = labels_.names();
    facts.spec.num_classes = static_cast<int64_t>(labels_.names().size());
    facts.unseen_description = "held out from the stream by " + options_.unseen.by;
    if (options_.unseen.by == "label") facts.unseen_description += " (" + join(options_.unseen.labels, ", ") + ")";
    if (options_.unseen.by == "source") facts.unseen_description += " (" + join(options_.unseen.sources, ", ") + ")";
    for (auto& f : files) f.records_rejected = rejected(f.path);
    facts.files = std::move(files);
    facts.records_rejected = rejects_.total();
    return assemble_splits(splitter_, std::move(facts), options_, context_);
  }

 private:
  int64_t rejected(const std::string& path) const {
    const auto it = rejects_.by_source().find(path);
    return it == rejects_.by_source().end() ? 0 : it->second;
  }

  const DataSection& options_;
  DataContext context_;
  RejectLog rejects_;
  LabelVocabulary labels_;
  std::shared_ptr<const BytePairTokenizer> tokenizer_;
  StreamSplitter splitter_;
  int64_t index_ = 0;
};

// Text sources have no held-out file; a single text stream has no sources to hold out, and
// its labels are only known once read.
void check_unseen(const DataSection& options, bool multi_file) {
  const std::string& by = options.unseen.by;
  const bool labels_known = multi_file || !options.labels.empty();
  if (by == "file" || (by == "source" && !multi_file) || (by == "label" && !labels_known)) {
    throw UserError("data.unseen.by: \"" + by + "\" is not available for this text source; use time" +
                    std::string(labels_known ? ", label" : "") + (multi_file ? ", source" : "") + " or none" +
                    (by == "label" ? " (or list data.labels)" : ""));
  }
}

}  // namespace

std::optional<std::string> parse_text_line(const std::string& line, const TextSection& options,
                                           LabelVocabulary& labels, Record& record) {
  record = Record{};
  if (options.format == "jsonl") return parse_jsonl(line, options, labels, record);
  const auto cut = line.find(options.separator);
  if (cut == std::string::npos) return "no \"" + options.separator + "\" between label and text";
  if (auto problem = add_label(line.substr(0, cut), labels, record)) return problem;
  record.payload = line.substr(cut + options.separator.size());
  return std::nullopt;
}

SplitData read_text_source(const DataSection& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the text source needs a file (or - for standard input)");
  check_unseen(options, /*multi_file=*/false);
  TextReading reading(options, context, {}, {resolve_unseen_labels(options, options.labels), {}});
  LineReader reader(options.path);
  std::string line;
  int64_t read = 0;
  while (reader.next(line)) {
    if (line.empty()) continue;
    Record record;
    if (auto problem = parse_text_line(line, options.text, reading.labels(), record)) {
      reading.reject(options.path, reader.line_number(), "line " + std::to_string(reader.line_number()) + ": " + *problem);
      continue;
    }
    if (options.text.time_field.empty()) record.time = static_cast<double>(read);
    record.origin.offset = reader.line_offset();
    ++read;
    if (!reading.add(record)) break;
  }
  return reading.finish({{"text", options.path, read, read, 0}});
}

SplitData read_weak_label_source(const DataSection& options, const DataContext& context) {
  const WeakLabelSection& weak = options.weak_labels;
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
  std::string line;
  int64_t read = 0, accepted = 0;
  while (reader.next(line)) {
    if (line.empty()) continue;
    ++read;
    const std::string where = "line " + std::to_string(reader.line_number()) + ": ";
    const nlohmann::json object = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const auto reject = [&](const std::string& why) { reading.reject(options.path, reader.line_number(), where + why); };
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
      reject("no votes for item \"" + key + "\" in " + weak.votes);
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
    record.time = static_cast<double>(accepted++);
    record.origin.offset = reader.line_offset();
    if (!reading.add(record)) break;
  }
  return reading.finish({{"weak-label items", options.path, read, accepted, 0}, {"votes", weak.votes, 0, 0, 0}});
}

SplitData read_fortunes_source(const DataSection& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the fortunes source needs a folder such as /usr/share/games/fortunes");
  check_unseen(options, /*multi_file=*/true);
  std::vector<std::string> paths;
  if (fs::is_directory(options.path)) {
    for (const auto& entry : fs::directory_iterator(options.path)) {
      const std::string ext = entry.path().extension().string();
      // Fortune files have no extension; .dat are strfile indexes and .u8 their UTF-8 twins.
      if (entry.is_regular_file() && ext.empty()) paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());  // a fixed order makes the stream deterministic
  } else if (fs::is_regular_file(options.path)) {
    paths.push_back(options.path);
  } else {
    throw UserError("data.path: " + options.path + ": no such file or folder");
  }
  if (paths.empty()) throw UserError("data.path: " + options.path + ": no fortune files (files without an extension)");

  // Every file is a label and a source: both are known before reading.
  std::vector<std::string> names;
  for (const std::string& path : paths) names.push_back(fs::path(path).filename().string());
  UnseenIds unseen{resolve_unseen_labels(options, options.labels.empty() ? names : options.labels), {}};
  for (const std::string& wanted : options.unseen.by == "source" ? options.unseen.sources : std::vector<std::string>{}) {
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
    SourceFile file{"fortunes/" + label, path, 0, 0, 0};
    std::string line, text;
    uint64_t start = 0;  // byte offset of the record being collected
    const auto flush = [&]() {
      if (text.empty()) return;
      ++file.records_read;
      Record record;
      if (auto problem = add_label(label, reading.labels(), record)) {
        reading.reject(path, start, *problem);
      } else {
        record.payload = text;
        record.time = static_cast<double>(time++);
        record.origin = {static_cast<uint32_t>(file_index), start};
        ++file.records_accepted;
        more = reading.add(record);
      }
      text.clear();
    };
    while (more && reader.next(line)) {
      if (line == "%") {
        flush();
        continue;
      }
      if (text.empty()) start = reader.line_offset();
      text += text.empty() ? line : "\n" + line;
    }
    if (more) flush();
    files.push_back(file);
  }
  return reading.finish(std::move(files));
}

}  // namespace stratum::data
