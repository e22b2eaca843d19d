#include "data/token_shards/prepare_shards.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text.h"
#include "data/hash.h"
#include "data/label_vocabulary.h"
#include "data/redaction/redactor.h"
#include "data/reject_log.h"
#include "data/sampling/label_reservoir.h"
#include "data/sources/fortune_file.h"
#include "data/sources/input_paths.h"
#include "data/sources/line_reader.h"
#include "data/sources/text_source.h"
#include "data/token_shards/token_shard.h"
#include "data/tokenizer/tokenizer.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

enum SplitIndex { kSeen = 0, kValidation = 1, kUnseen = 2 };

// Documents are tokenized a batch at a time: enough work to share among threads, little memory.
constexpr size_t kBatchDocuments = 4096;
constexpr size_t kBatchBytes = size_t{16} << 20;

struct Document {
  std::string text;
  std::vector<std::string> labels;
  int split = kSeen;
  int64_t order = 0;  ///< among accepted documents: sampled ones are written in this order
};

// A uniform sample of one label's seen documents (the reservoirs' Algorithm R / L). The
// reservoir decides; the documents live here, slot for slot.
struct LabelSample {
  LabelReservoir reservoir;
  std::vector<Document> documents;
  int64_t offered = 0;
};

// One split's shards, written one after another as each fills up.
class SplitWriter {
 public:
  SplitWriter(std::string dir, std::string name, const PrepareOptions& prepare, uint64_t vocab_size, ShardSplit& out)
      : dir_(std::move(dir)), name_(std::move(name)), shard_tokens_(prepare.shard_tokens), vocab_size_(vocab_size),
        out_(out) {}

  void add(const std::vector<int32_t>& ids, const std::vector<std::string>& labels) {
    if (!writer_) {
      char file[64];
      std::snprintf(file, sizeof file, "%s-%05zu.bin", name_.c_str(), out_.shards.size());
      entry_ = ShardEntry{file, 0, 0, 0, ""};
      writer_ = std::make_unique<TokenShardWriter>(dir_ + "/" + file, vocab_size_);
    }
    writer_->add_document(ids);
    ++out_.documents;
    out_.tokens += ids.size();
    for (const std::string& label : labels) ++out_.labels[label];
    if (writer_->tokens() >= shard_tokens_) close();
  }

  void close() {
    if (!writer_) return;
    entry_.tokens = writer_->tokens();
    entry_.documents = writer_->documents();
    entry_.sha256 = writer_->finish();
    entry_.bytes = fs::file_size(dir_ + "/" + entry_.file);
    out_.shards.push_back(entry_);
    writer_.reset();
  }

 private:
  std::string dir_, name_;
  uint64_t shard_tokens_, vocab_size_;
  ShardSplit& out_;
  ShardEntry entry_;
  std::unique_ptr<TokenShardWriter> writer_;
};

// Token ids of every document of a batch, each ended by the end-of-text id; `workers` threads
// take contiguous ranges, so the result does not depend on how many there are.
std::vector<std::vector<int32_t>> tokenize(const std::vector<Document>& documents, const Tokenizer& tokenizer,
                                           int workers) {
  std::vector<std::vector<int32_t>> ids(documents.size());
  const auto work = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      ids[i] = tokenizer.encode(documents[i].text);
      ids[i].push_back(tokenizer.end_of_text_id());
    }
  };
  const size_t n = documents.size(), threads = std::min<size_t>(static_cast<size_t>(std::max(1, workers)), n);
  if (threads <= 1) {
    work(0, n);
    return ids;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(threads);
  for (size_t w = 0; w < threads; ++w) {
    pool.emplace_back([&, w] {
      try {
        work(n * w / threads, n * (w + 1) / threads);
      } catch (...) {
        errors[w] = std::current_exception();
      }
    });
  }
  for (std::thread& t : pool) t.join();
  for (const auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  return ids;
}

// Makes `dir` ready: created if missing; a previous prepare's files removed; anything else refused.
void clear_output(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) throw UserError("--out " + dir + ": cannot create the folder");
  const std::string manifest_path = dir + "/" + ShardManifest::kFileName;
  if (fs::exists(manifest_path)) {
    const ShardManifest old = ShardManifest::read(dir);
    for (const ShardSplit& split : old.splits) {
      for (const ShardEntry& e : split.shards) fs::remove(dir + "/" + e.file, ec);
    }
    fs::remove(manifest_path, ec);
    fs::remove(dir + "/rejects.jsonl", ec);
  }
  if (!fs::is_empty(dir, ec)) {
    throw UserError("--out " + dir + ": the folder holds files but no shards.json; prepare into a new or empty folder");
  }
}

// Reads the configured source document by document, decides each one's split, and hands
// batches of them on.
class DocumentReader {
 public:
  DocumentReader(const DataOptions& options, const PrepareOptions& prepare, RejectLog& rejects, ShardManifest& manifest)
      : options_(options),
        rejects_(rejects),
        manifest_(manifest),
        labels_(options.labels, static_cast<size_t>(options.max_classes)),
        seed_hash_(splitmix64(prepare.seed ^ 0x70726570617265ull)),
        per_label_(prepare.per_label),
        redactor_(options.redact) {
    const UnseenOptions& unseen = options.unseen;
    if (unseen.by == UnseenBy::file) {
      throw UserError("data.unseen.by: file: a text source has no held-out file; use label, source (fortunes), time or none");
    }
    if (unseen.by == UnseenBy::label && unseen.labels.empty()) {
      throw UserError("data.unseen.labels: list the labels whose documents are held out (data.unseen.by: label)");
    }
    if (unseen.by == UnseenBy::source && options.source != "fortunes") {
      throw UserError("data.unseen.by: source: only the fortunes source has several files to hold out");
    }
  }

  // Reads everything, calling `flush` with each full batch (and the last).
  void read(const std::function<void(std::vector<Document>&)>& flush) {
    flush_ = flush;
    if (options_.source == "fortunes") {
      read_fortunes();
    } else {
      read_text();
    }
    // The samples, in the order their documents arrived.
    std::vector<Document> sampled;
    for (auto& [label, sample] : samples_) {
      manifest_.splits[kSeen].offered[label] = sample.offered;
      for (Document& d : sample.documents) sampled.push_back(std::move(d));
    }
    samples_.clear();
    std::sort(sampled.begin(), sampled.end(), [](const Document& a, const Document& b) { return a.order < b.order; });
    for (Document& d : sampled) queue(std::move(d));
    if (!batch_.empty()) flush_(batch_);
    batch_.clear();
  }

 private:
  bool full() const { return options_.max_records > 0 && manifest_.records_read >= options_.max_records; }

  // Counts an accepted record and queues it (or offers it to its label's sample).
  void accept(Document document, const std::string& source, double time) {
    document.order = manifest_.records_accepted;
    ++manifest_.records_read, ++manifest_.records_accepted;
    document.split = split_of(document, source, time);
    if (document.split == kSeen && per_label_ > 0) {
      sample(std::move(document));
      return;
    }
    queue(std::move(document));
  }

  void sample(Document document) {
    const std::string label = document.labels.empty() ? "" : document.labels.front();
    auto it = samples_.find(label);
    if (it == samples_.end()) {
      // One random stream per label, numbered in order of first appearance (a fixed order).
      it = samples_.emplace(label, LabelSample{LabelReservoir(seed_hash_, samples_.size(), /*weighted=*/false), {}, 0}).first;
      it->second.reservoir.set_capacity(per_label_);
    }
    LabelSample& s = it->second;
    ++s.offered;
    const int64_t slot = s.reservoir.offer(0.0);
    if (slot < 0) return;
    if (static_cast<size_t>(slot) == s.documents.size()) {
      s.documents.push_back(std::move(document));
    } else {
      s.documents[static_cast<size_t>(slot)] = std::move(document);
    }
  }

  void queue(Document document) {
    batch_bytes_ += document.text.size();
    batch_.push_back(std::move(document));
    if (batch_.size() >= kBatchDocuments || batch_bytes_ >= kBatchBytes) {
      flush_(batch_);
      batch_.clear();
      batch_bytes_ = 0;
    }
  }

  void reject(const std::string& path, uint64_t offset, uint64_t line, const std::string& why) {
    ++manifest_.records_read, ++manifest_.records_rejected;
    rejects_.reject(path, offset, why, 1, line);
  }

  // data.redact before a document is parsed or written to a shard; false when it is dropped.
  bool redact(std::string& text, TextFormat format, const std::string& path, uint64_t offset, uint64_t line) {
    const std::string dropped_by = redactor_.redact_line(text, format);
    if (dropped_by.empty()) return true;
    ++manifest_.records_read, ++manifest_.records_rejected;
    rejects_.drop_by_policy(path, offset, line, "dropped by data.redact: it holds " + dropped_by);
    return false;
  }

 public:
  const RedactionCounts& redaction() const { return redactor_.counts(); }

 private:

  int split_of(const Document& document, const std::string& source, double time) const {
    const UnseenOptions& unseen = options_.unseen;
    const auto listed = [](const std::vector<std::string>& list, const std::string& value) {
      return std::find(list.begin(), list.end(), value) != list.end();
    };
    if (unseen.by == UnseenBy::label &&
        std::any_of(document.labels.begin(), document.labels.end(), [&](const std::string& l) { return listed(unseen.labels, l); })) {
      return kUnseen;
    }
    if (unseen.by == UnseenBy::source && listed(unseen.sources, source)) return kUnseen;
    if (unseen.by == UnseenBy::time && time > unseen.after) return kUnseen;
    // Copies of a text share a hash and so a split: no validation document was trained on.
    const uint64_t h = splitmix64(content_hash(document.text.data(), document.text.size()) ^ seed_hash_);
    return static_cast<double>(h >> 11) * 0x1.0p-53 < options_.validation_fraction ? kValidation : kSeen;
  }

  void add_file(const std::string& path, const LineReader& reader, int64_t read, int64_t rejected) {
    manifest_.source_files.push_back({{"path", path},
                                      {"sha256", reader.sha256()},
                                      {"bytes", std::to_string(reader.bytes_read())},
                                      {"records_read", std::to_string(read)},
                                      {"records_rejected", std::to_string(rejected)}});
  }

  void read_text() {
    if (options_.path.empty()) throw UserError("data.path: the text source needs a file, a pattern or - for standard input");
    double arrival = 0;
    for (const std::string& path : input_paths(options_.path, "data.path")) {
      if (full()) break;
      LineReader reader(path);
      const std::string source = path == options_.path ? path : fs::path(path).filename().string();
      const int64_t read_before = manifest_.records_read, rejected_before = manifest_.records_rejected;
      std::string line;
      while (!full() && reader.next(line)) {
        if (line.empty()) continue;  // a blank line is no document
        if (!reader.truncated() && !redact(line, options_.text.format, path, reader.line_offset(), reader.line_number())) continue;
        Record record;
        std::optional<std::string> problem =
            reader.truncated() ? std::optional<std::string>(LineReader::too_long("line"))
                               : parse_text_line(line, options_.text, labels_, record, /*need_label=*/false);
        if (!problem && record.payload.empty()) problem = "empty text";
        if (problem) {
          reject(path, reader.line_offset(), reader.line_number(), *problem);
          continue;
        }
        Document document;
        document.text = std::move(record.payload);
        for (const int32_t id : record.labels) document.labels.push_back(labels_.names()[static_cast<size_t>(id)]);
        const double time = options_.text.time_field.empty() ? arrival : record.time;
        arrival += 1;
        accept(std::move(document), source, time);
      }
      add_file(path, reader, manifest_.records_read - read_before, manifest_.records_rejected - rejected_before);
    }
  }

  void read_fortunes() {
    const std::vector<std::string> paths = fortune_files(options_.path);
    std::vector<std::string> names;
    for (const std::string& path : paths) names.push_back(fs::path(path).filename().string());
    for (const std::string& wanted : options_.unseen.by == UnseenBy::source ? options_.unseen.sources : std::vector<std::string>{}) {
      if (std::find(names.begin(), names.end(), wanted) == names.end()) {
        throw UserError("data.unseen.sources: no fortune file \"" + wanted + "\" in " + options_.path +
                        (nearest(wanted, names).empty() ? "" : " (did you mean " + nearest(wanted, names) + "?)"));
      }
    }
    double arrival = 0;
    for (size_t f = 0; f < paths.size() && !full(); ++f) {
      LineReader reader(paths[f]);
      const int64_t read_before = manifest_.records_read, rejected_before = manifest_.records_rejected;
      read_fortune_records(reader, [&](const FortuneRecord& fortune) {
        if (fortune.too_long) {
          reject(paths[f], fortune.offset, fortune.line, LineReader::too_long("record"));
        } else {
          std::string text = fortune.text;
          if (redact(text, TextFormat::plain, paths[f], fortune.offset, fortune.line)) {
            accept(Document{std::move(text), {names[f]}, kSeen}, names[f], arrival);
            arrival += 1;
          }
        }
        return !full();
      });
      add_file(paths[f], reader, manifest_.records_read - read_before, manifest_.records_rejected - rejected_before);
    }
  }

  const DataOptions& options_;
  RejectLog& rejects_;
  ShardManifest& manifest_;
  LabelVocabulary labels_;
  uint64_t seed_hash_;
  int64_t per_label_;
  Redactor redactor_;
  std::map<std::string, LabelSample> samples_;
  std::function<void(std::vector<Document>&)> flush_;
  std::vector<Document> batch_;
  size_t batch_bytes_ = 0;
};

}  // namespace

ShardManifest prepare_token_shards(const DataOptions& options, const PrepareOptions& prepare) {
  if (options.source != "text" && options.source != "fortunes") {
    throw UserError("data.source: stratum data prepare reads a text or fortunes source, not \"" + options.source + "\"");
  }
  if (prepare.shard_tokens == 0) throw UserError("--shard-tokens: must be positive");
  if (prepare.workers < 1 || prepare.workers > 256) throw UserError("--workers: must be 1 to 256");
  const std::shared_ptr<const Tokenizer> loaded = load_tokenizer(options.tokenizer.path);
  const Tokenizer& tokenizer = *loaded;
  ShardManifest manifest;
  manifest.tokenizer = tokenizer.kind();
  manifest.tokenizer_sha256 = tokenizer.fingerprint();
  manifest.vocab_size = static_cast<uint64_t>(tokenizer.vocab_size());
  manifest.end_of_text = tokenizer.end_of_text_id();
  manifest.source = options.source;
  manifest.source_path = options.path;
  manifest.validation_fraction = options.validation_fraction;
  manifest.seed = prepare.seed;
  manifest.per_label = prepare.per_label;
  manifest.unseen_description = "held out by " + std::string(choice_name(options.unseen.by));
  if (options.unseen.by == UnseenBy::label) manifest.unseen_description += " (" + join(options.unseen.labels, ", ") + ")";
  if (options.unseen.by == UnseenBy::source) manifest.unseen_description += " (" + join(options.unseen.sources, ", ") + ")";
  if (options.unseen.by == UnseenBy::time) manifest.unseen_description += " (after " + format_number(options.unseen.after) + ")";

  clear_output(prepare.out_dir);
  RejectLog rejects(prepare.out_dir + "/rejects.jsonl");
  std::vector<SplitWriter> writers;
  writers.reserve(manifest.splits.size());
  for (size_t s = 0; s < manifest.splits.size(); ++s) {
    writers.emplace_back(prepare.out_dir, ShardManifest::kSplitNames[s], prepare, manifest.vocab_size, manifest.splits[s]);
  }
  DocumentReader reader(options, prepare, rejects, manifest);
  reader.read([&](std::vector<Document>& batch) {
    const auto ids = tokenize(batch, tokenizer, prepare.workers);
    for (size_t i = 0; i < batch.size(); ++i) writers[static_cast<size_t>(batch[i].split)].add(ids[i], batch[i].labels);
  });
  for (SplitWriter& w : writers) w.close();
  if (options.redact.active()) {
    manifest.redaction_policy = redaction_policy_json(options.redact);
    manifest.redaction_findings = reader.redaction().findings;
  }
  if (manifest.records_read == 0) throw UserError("data.path: " + options.path + ": no documents (the input is empty)");
  rejects.check_budget(manifest.records_accepted, options.max_reject_fraction);
  // shards.json last: a folder without it is an unfinished prepare.
  write_file_atomically(prepare.out_dir + "/" + ShardManifest::kFileName, manifest.to_json());
  return manifest;
}

}  // namespace stratum::data
