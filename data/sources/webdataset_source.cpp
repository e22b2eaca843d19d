#include "data/sources/webdataset_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "core/text.h"
#include "data/images/decode_batch.h"
#include "data/images/image_records.h"
#include "data/label_vocabulary.h"
#include "data/reject_log.h"
#include "data/rng.h"
#include "data/sources/input_paths.h"
#include "data/splits/stream_splitter.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

constexpr size_t kChunk = size_t{1} << 16;
constexpr int64_t kMaxLabelBytes = 4096;

// libarchive reads the shard through these callbacks, so its bytes are hashed as they pass
// and the manifest pins the shard without a second read.
struct ShardInput {
  int fd = -1;
  Sha256 hash;
  std::vector<char> buffer = std::vector<char>(kChunk);
};

la_ssize_t read_shard(struct archive* a, void* data, const void** out) {
  auto* in = static_cast<ShardInput*>(data);
  ssize_t got;
  do {
    got = ::read(in->fd, in->buffer.data(), in->buffer.size());
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    archive_set_error(a, errno, "read error");
    return -1;
  }
  in->hash.update(in->buffer.data(), static_cast<size_t>(got));
  *out = in->buffer.data();
  return got;
}

// A sample's members gathered by key.
struct Sample {
  std::string key;
  std::string image, image_name, label_member, label_text;
  std::string problem;  // found while reading its members (one too large)
};

// Key and extension as WebDataset splits a member name: the extension starts at the first dot
// of the file name.
void split_name(const std::string& name, std::string& key, std::string& extension) {
  const size_t slash = name.rfind('/');
  const size_t dot = name.find('.', slash == std::string::npos ? 0 : slash + 1);
  key = dot == std::string::npos ? name : name.substr(0, dot);
  extension = dot == std::string::npos ? "" : name.substr(dot + 1);
  std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
}

// The class name a label member holds, or why it holds none.
std::optional<std::string> label_of(const Sample& s, std::string& name) {
  if (s.label_member.empty()) return std::string("no label member (.cls, .txt or .json)");
  std::string text = s.label_text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (s.label_member == "json") {
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("label")) return std::string("the .json member has no \"label\"");
    const auto& label = j["label"];
    if (label.is_string()) {
      text = label.get<std::string>();
    } else if (label.is_number_integer()) {
      text = std::to_string(label.get<int64_t>());
    } else {
      return std::string("the .json member's \"label\" is neither a string nor an integer");
    }
  } else if (s.label_member == "cls") {
    if (text.empty() || text.size() > 9 || text.find_first_not_of("0123456789") != std::string::npos) {
      return "the .cls member holds \"" + printable(text, 40) + "\", not a class number";
    }
    text = std::to_string(std::stoll(text));
  }
  if (text.empty()) return std::string("empty label");
  if (invalid_utf8_at(text) != std::string::npos) return std::string("label is not valid UTF-8");
  name = text;
  return std::nullopt;
}

}  // namespace

SplitData read_webdataset_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the webdataset source needs tar shards (e.g. shards/{000000..000099}.tar)");
  check_image_options(options);
  std::vector<std::string> shards = input_paths(options.path, "data.path");
  // Shard order shuffled by the run seed; a sharded stream gives each rank its own shards.
  Rng order(context.seed, 0x746172ull);
  for (size_t i = shards.size(); i > 1; --i) std::swap(shards[i - 1], shards[order.below(i)]);
  std::vector<std::string> mine;
  for (size_t i = 0; i < shards.size(); ++i) {
    if (static_cast<int>(i % static_cast<size_t>(context.world_size)) == context.rank) mine.push_back(shards[i]);
  }
  if (mine.empty()) {
    throw UserError("data.path: " + options.path + ": " + std::to_string(shards.size()) + " shards for " +
                    std::to_string(context.world_size) + " stream shards: rank " + std::to_string(context.rank) + " has none");
  }
  // Every record this rank reads is its own: the splitter sees indices r, r + R, r + 2R, ...
  const auto index_of = [&](int64_t n) { return n * context.world_size + context.rank; };

  RejectLog rejects(context.rejects_path, context.append_rejects);
  LabelVocabulary labels(options.labels, static_cast<size_t>(options.max_classes));
  StreamSplitter splitter(options, context, {resolve_unseen_labels(options, options.labels), {}});
  std::vector<SourceFile> files;
  int64_t count = 0;
  bool more = true;
  DecodeBatch batch(options.image, image_workers(options));
  for (size_t s = 0; s < mine.size() && more; ++s) {
    const std::string& path = mine[s];
    SourceFile file;
    file.role = "shard";
    file.path = path;
    ShardInput input;
    input.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (input.fd < 0) throw UserError("data.path: " + path + ": cannot open: " + std::strerror(errno));
    struct archive* a = archive_read_new();
    archive_read_support_format_tar(a);
    archive_read_support_filter_none(a);
    uint64_t sample_index = 0;
    // A complete sample: checked here in stream order, its image decoded on the workers, and
    // labelled, counted and offered in the same order afterwards (DecodeBatch).
    const auto finish_sample = [&](Sample& sample) {
      if (sample.key.empty()) return true;
      std::string name;
      std::optional<std::string> problem;
      if (!sample.problem.empty()) problem = sample.problem;
      if (!problem && sample.image_name.empty()) problem = "no image member (.jpg, .jpeg, .png or .webp)";
      if (!problem) problem = label_of(sample, name);
      const bool cls = sample.label_member == "cls";
      const DecodeBatch::Continuation then = [&, key = sample.key, name, cls, at = sample_index, s](
                                                 Record& record, const std::optional<std::string>& decoded) mutable {
        std::optional<std::string> why = decoded;
        if (!why && cls) {
          // A class number is the class id: with data.labels it names the class; otherwise the
          // classes are "0", "1", ... in number order.
          const auto number = static_cast<size_t>(std::stoll(name));
          if (labels.fixed()) {
            if (number >= labels.names().size()) {
              why = "class number " + name + " is outside data.labels (" + std::to_string(labels.names().size()) + " names)";
            } else {
              name = labels.names()[number];
            }
          } else {
            for (size_t k = labels.names().size(); k < number && k < labels.max_labels(); ++k) labels.id(std::to_string(k));
          }
        }
        if (!why) {
          const int32_t id = labels.id(name);
          if (id < 0) {
            why = labels.fixed() ? "unknown label \"" + printable(name, 60) + "\" (not in data.labels)"
                                 : "more than data.max_classes labels";
          } else {
            record.labels = {id};
          }
        }
        ++file.records_read;
        if (why) {
          ++file.records_rejected;
          rejects.reject(path, at, "sample " + printable(key, 80) + ": " + *why);
        } else {
          record.time = static_cast<double>(count);
          record.origin = {static_cast<uint32_t>(s), at};
          if (!splitter.add(index_of(count), record)) return false;
          ++file.records_accepted;
        }
        ++count;
        return true;
      };
      ++sample_index;
      const bool go_on = problem ? batch.add_rejected(*problem, then) : batch.add(std::move(sample.image), sample.image_name, then);
      sample = Sample{};
      return go_on;
    };
    if (archive_read_open(a, &input, nullptr, read_shard, nullptr) != ARCHIVE_OK) {
      const std::string why = archive_error_string(a) ? archive_error_string(a) : "unreadable";
      archive_read_free(a);
      ::close(input.fd);
      throw UserError("data.path: " + path + ": not a tar shard (" + why + ")");
    }
    Sample sample;
    struct archive_entry* entry = nullptr;
    std::string damage;
    bool damage_counted = false;
    while (more) {
      const int rc = archive_read_next_header(a, &entry);
      if (rc == ARCHIVE_EOF) break;
      if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {  // the members read so far are whole
        damage = archive_error_string(a) ? archive_error_string(a) : "damaged header";
        break;
      }
      if (archive_entry_filetype(entry) != AE_IFREG) continue;
      std::string key, extension;
      split_name(archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "", key, extension);
      if (key != sample.key) {  // a new sample begins: the previous one is complete
        more = finish_sample(sample);
        if (!more) break;
        sample.key = key;
      }
      const int64_t size = archive_entry_size(entry);
      const bool image = !image_format_of_name("x." + extension).empty();
      const bool label = extension == "cls" || extension == "txt" || extension == "json";
      if (!image && !label) continue;  // other members (.mp4, .npy, ...) are not read
      const int64_t limit = image ? options.image.max_file_bytes : kMaxLabelBytes;
      if (size < 0 || size > limit) {
        sample.problem = "its ." + extension + " member of " + std::to_string(size) + " bytes is over " +
                         (image ? "data.image.max_file_bytes" : std::to_string(limit) + " bytes");
        continue;
      }
      std::string bytes(static_cast<size_t>(size), '\0');
      const la_ssize_t got = archive_read_data(a, bytes.data(), bytes.size());
      if (got != size) {  // this sample is cut: it is rejected, and nothing after it can be read
        sample.problem = "damaged or truncated tar data: its ." + extension + " member ends early";
        damage = archive_error_string(a) ? archive_error_string(a) : "truncated";
        more = finish_sample(sample);
        damage_counted = true;
        break;
      }
      if (image) {
        sample.image = std::move(bytes);
        sample.image_name = key + "." + extension;
      } else {
        sample.label_member = extension;
        sample.label_text = std::move(bytes);
      }
    }
    if (more && !damage_counted) more = finish_sample(sample);
    if (more) more = batch.flush();  // before the shard's facts are final
    if (!damage.empty() && !damage_counted && more) {
      // A damaged header: whatever followed the last whole sample is lost, counted as one record.
      ++file.records_read, ++file.records_rejected;
      rejects.reject(path, sample_index, "damaged or truncated tar data after " + std::to_string(sample_index) +
                                             " samples: " + damage);
      ++count;
    }
    archive_read_free(a);
    ::close(input.fd);
    file.bytes_read = input.hash.size();
    file.sha256 = input.hash.hex();
    file.read_to_end = damage.empty() && more;
    files.push_back(std::move(file));
  }
  return finish_image_source(splitter, rejects, labels.names(), std::move(files), options, context, "no usable samples");
}

}  // namespace stratum::data
