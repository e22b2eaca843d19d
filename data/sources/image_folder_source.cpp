#include "data/sources/image_folder_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "data/images/decode_batch.h"
#include "data/images/image_records.h"
#include "data/reject_log.h"
#include "data/rng.h"
#include "data/splits/stream_splitter.h"

namespace fs = std::filesystem;

namespace stratum::data {

SplitData read_image_folder_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the image_folder source needs a folder ROOT with ROOT/CLASS/IMAGE files");
  std::error_code ec;
  if (!fs::is_directory(options.path, ec)) {
    throw UserError("data.path: " + options.path + ": no such folder (image_folder reads ROOT/CLASS/IMAGE files)");
  }
  check_image_options(options);
  const ImageOptions& image_options = options.image;

  std::vector<std::string> classes;
  for (const auto& entry : fs::directory_iterator(options.path, ec)) {
    if (entry.is_directory(ec)) classes.push_back(entry.path().filename().string());
  }
  std::sort(classes.begin(), classes.end());
  if (classes.empty()) throw UserError("data.path: " + options.path + ": no class folders (expected ROOT/CLASS/IMAGE files)");
  const std::vector<std::string>& names = options.labels.empty() ? classes : options.labels;
  if (static_cast<int64_t>(names.size()) > options.max_classes) {
    throw UserError("data.max_classes: " + options.path + " has " + std::to_string(names.size()) + " class folders");
  }

  // Every class folder's image files, sorted; read in one seeded shuffle of them all, so the
  // stream is not sorted by class (drift windows, max_records and time splits see a mix).
  struct Entry {
    size_t folder;
    uint64_t position;
    fs::path path;
  };
  std::vector<Entry> entries;
  std::vector<SourceFile> files;
  int64_t ignored = 0;
  for (size_t c = 0; c < classes.size(); ++c) {
    const fs::path folder = fs::path(options.path) / classes[c];
    std::vector<fs::path> paths;
    for (auto it = fs::recursive_directory_iterator(folder, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      if (!it->is_regular_file(ec)) continue;
      if (image_format_of_name(it->path().string()).empty()) {
        ++ignored;
        continue;
      }
      paths.push_back(it->path());
    }
    std::sort(paths.begin(), paths.end());
    for (size_t f = 0; f < paths.size(); ++f) entries.push_back({c, f, paths[f]});
    SourceFile file;
    file.role = "class " + classes[c];
    file.path = folder.string();
    files.push_back(std::move(file));
  }
  Rng order(context.seed, 0x696d616765ull);
  for (size_t i = entries.size(); i > 1; --i) std::swap(entries[i - 1], entries[order.below(i)]);

  RejectLog rejects(context.rejects_path, context.append_rejects);
  StreamSplitter splitter(options, context, {resolve_unseen_labels(options, names), {}});
  std::vector<std::vector<std::pair<std::string, std::string>>> digests(classes.size());  // (relative path, sha256)
  int64_t index = 0;
  bool more = true;
  // Files are read here in stream order and decoded on the workers; what follows decoding
  // (counting, labels, the splitter) runs in the same order (DecodeBatch).
  DecodeBatch batch(image_options, image_workers(options));
  for (const Entry& e : entries) {
    SourceFile& file = files[e.folder];
    const auto label = std::find(names.begin(), names.end(), classes[e.folder]);
    const DecodeBatch::Continuation then = [&, e, label](Record& record, const std::optional<std::string>& problem) {
      SourceFile& f = files[e.folder];
      const bool mine = index % context.world_size == context.rank;
      if (problem) {
        if (mine) {
          ++f.records_read, ++f.records_rejected;
          rejects.reject(e.path.string(), 0, *problem);
        }
        ++index;
        return true;
      }
      record.labels = {static_cast<int32_t>(label - names.begin())};
      record.time = static_cast<double>(index);
      record.origin = {static_cast<uint32_t>(e.folder), e.position};
      if (!splitter.add(index, record)) return false;
      if (mine) ++f.records_read, ++f.records_accepted;
      ++index;
      return true;
    };
    const auto size = fs::file_size(e.path, ec);
    if (ec) {
      more = batch.add_rejected("cannot read: " + ec.message(), then);
    } else if (static_cast<int64_t>(size) > image_options.max_file_bytes) {
      more = batch.add_rejected("file of " + std::to_string(size) + " bytes is over data.image.max_file_bytes", then);
    } else {
      std::string bytes(size, '\0');
      std::ifstream in(e.path, std::ios::binary);
      if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
        more = batch.add_rejected("cannot read the file", then);
      } else {
        digests[e.folder].emplace_back(fs::relative(e.path, file.path, ec).string(), sha256_hex(bytes));
        file.bytes_read += size;
        if (label == names.end()) {
          more = batch.add_rejected("class folder \"" + classes[e.folder] + "\" is not in data.labels", then);
        } else {
          more = batch.add(std::move(bytes), e.path.string(), then);
        }
      }
    }
    if (!more) break;
  }
  if (more) more = batch.flush();
  // Each class folder pinned by its files' names and content hashes, in name order.
  for (size_t c = 0; c < classes.size(); ++c) {
    std::sort(digests[c].begin(), digests[c].end());
    Sha256 listing;
    for (const auto& [name, digest] : digests[c]) {
      const std::string line = name + " " + digest + "\n";
      listing.update(line.data(), line.size());
    }
    files[c].sha256 = listing.hex();
    files[c].read_to_end = more;
  }
  if (ignored > 0) log::info("data: " + std::to_string(ignored) + " files without an image extension ignored in " + options.path);
  return finish_image_source(splitter, rejects, names, std::move(files), options, context, "no usable images");
}

}  // namespace stratum::data
