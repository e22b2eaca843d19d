#include "data/sources/image_folder_source.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "core/sha256.h"
#include "data/images/image_augment.h"
#include "data/images/image_decode.h"
#include "data/images/image_store.h"
#include "data/images/resample.h"
#include "data/reject_log.h"
#include "data/rng.h"
#include "data/splits/assemble.h"
#include "data/splits/stream_splitter.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// A kept image in a record's payload: height and width (4 bytes each), channels (1), pixels.
std::string pack(const Image& image) {
  std::string out(9 + image.pixels.size(), '\0');
  const auto h = static_cast<uint32_t>(image.height), w = static_cast<uint32_t>(image.width);
  std::memcpy(out.data(), &h, 4);
  std::memcpy(out.data() + 4, &w, 4);
  out[8] = static_cast<char>(image.channels);
  std::memcpy(out.data() + 9, image.pixels.data(), image.pixels.size());
  return out;
}

Image unpack(const std::string& payload) {
  uint32_t h = 0, w = 0;
  STRATUM_CHECK(payload.size() >= 9, "image record too short");
  std::memcpy(&h, payload.data(), 4);
  std::memcpy(&w, payload.data() + 4, 4);
  Image image{h, w, static_cast<unsigned char>(payload[8]), {}};
  STRATUM_CHECK(payload.size() == 9 + static_cast<size_t>(h) * w * image.channels, "image record of the wrong size");
  image.pixels.assign(payload.begin() + 9, payload.end());
  return image;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The format a file's extension promises ("" for a file that is not an image by name).
std::string format_of_extension(const fs::path& path) {
  const std::string ext = lower(path.extension().string());
  if (ext == ".jpg" || ext == ".jpeg") return "jpeg";
  if (ext == ".png") return "png";
  if (ext == ".webp") return "webp";
  return "";
}

void check_options(const DataOptions& options) {
  const ImageOptions& image = options.image;
  if (image.resize != 0 && image.resize < image.size) {
    throw UserError("data.image.resize: " + std::to_string(image.resize) + " is smaller than data.image.size (" +
                    std::to_string(image.size) + "): the evaluation window would not fit");
  }
  if (image.crop_scale.size() != 2 || image.crop_scale[0] > image.crop_scale[1] || image.crop_scale[1] <= 0) {
    throw UserError("data.image.crop_scale: expected [min, max] with 0 <= min <= max <= 1 and max > 0");
  }
  if (image.crop_ratio.size() != 2 || image.crop_ratio[0] > image.crop_ratio[1]) {
    throw UserError("data.image.crop_ratio: expected [min, max] with 0 < min <= max");
  }
  for (const auto* stats : {&image.mean, &image.std}) {
    if (!stats->empty() && static_cast<int64_t>(stats->size()) != image.channels) {
      throw UserError(std::string("data.image.") + (stats == &image.mean ? "mean" : "std") + ": " +
                      std::to_string(stats->size()) + " values for " + std::to_string(image.channels) + " channels");
    }
  }
  const auto& ops = image.augment;
  const auto at = [&](ImageAugmentation op) { return std::find(ops.begin(), ops.end(), op) - ops.begin(); };
  if (at(ImageAugmentation::random_resized_crop) != static_cast<std::ptrdiff_t>(ops.size()) &&
      at(ImageAugmentation::random_resized_crop) != 0) {
    throw UserError("data.image.augment: random_resized_crop must come first (it chooses the window the others work on)");
  }
  for (const ImageAugmentation op : ops) {
    if (std::count(ops.begin(), ops.end(), op) > 1) {
      throw UserError(std::string("data.image.augment: ") + choice_name(op) + " is listed twice");
    }
  }
  if (options.unseen.by == UnseenBy::file || options.unseen.by == UnseenBy::source) {
    throw UserError(std::string("data.unseen.by: \"") + choice_name(options.unseen.by) +
                    "\" is not available for image_folder; use label (whole class folders), time or none");
  }
}

// Per-channel mean and deviation of [0, 1] pixels over the seen split's evaluation windows.
void seen_statistics(const std::vector<Image>& images, const ImageTransform& center_of, int64_t channels,
                     std::vector<float>& mean, std::vector<float>& std) {
  std::vector<double> sum(static_cast<size_t>(channels), 0), squares(static_cast<size_t>(channels), 0);
  double count = 0;
  for (const Image& kept : images) {
    const Image window = center_of.center(kept);
    const int64_t plane = window.height * window.width;
    for (int64_t i = 0; i < plane; ++i) {
      for (int64_t c = 0; c < channels; ++c) {
        const double v = window.pixels[static_cast<size_t>(i * channels + c)] / 255.0;
        sum[static_cast<size_t>(c)] += v;
        squares[static_cast<size_t>(c)] += v * v;
      }
    }
    count += static_cast<double>(plane);
  }
  mean.assign(static_cast<size_t>(channels), 0);
  std.assign(static_cast<size_t>(channels), 1);
  for (size_t c = 0; c < static_cast<size_t>(channels) && count > 1; ++c) {
    const double m = sum[c] / count;
    mean[c] = static_cast<float>(m);
    std[c] = static_cast<float>(std::max(1e-6, std::sqrt(std::max(0.0, squares[c] / count - m * m))));
  }
}

}  // namespace

SplitData read_image_folder_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the image_folder source needs a folder ROOT with ROOT/CLASS/IMAGE files");
  std::error_code ec;
  if (!fs::is_directory(options.path, ec)) {
    throw UserError("data.path: " + options.path + ": no such folder (image_folder reads ROOT/CLASS/IMAGE files)");
  }
  check_options(options);
  const ImageOptions& image_options = options.image;
  const int64_t kept_side = image_options.resize > 0 ? image_options.resize : image_options.size;

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
      if (format_of_extension(it->path()).empty()) {
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
  const DecodeLimits limits{image_options.max_pixels};
  int64_t index = 0;
  bool more = true;
  for (const Entry& e : entries) {
    SourceFile& file = files[e.folder];
    const std::string& class_name = classes[e.folder];
    const auto label = std::find(names.begin(), names.end(), class_name);
    const bool mine = index % context.world_size == context.rank;
    const auto reject = [&](const std::string& why) {
      if (mine) {
        ++file.records_read, ++file.records_rejected;
        rejects.reject(e.path.string(), 0, why);
      }
      ++index;
    };
    const auto size = fs::file_size(e.path, ec);
    if (ec) {
      reject("cannot read: " + ec.message());
      continue;
    }
    if (static_cast<int64_t>(size) > image_options.max_file_bytes) {
      reject("file of " + std::to_string(size) + " bytes is over data.image.max_file_bytes");
      continue;
    }
    std::string bytes(size, '\0');
    std::ifstream in(e.path, std::ios::binary);
    if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
      reject("cannot read the file");
      continue;
    }
    digests[e.folder].emplace_back(fs::relative(e.path, file.path, ec).string(), sha256_hex(bytes));
    file.bytes_read += size;
    if (label == names.end()) {
      reject("class folder \"" + class_name + "\" is not in data.labels");
      continue;
    }
    const std::string format = image_format(bytes);
    if (!format.empty() && format != format_of_extension(e.path)) {
      reject("a " + format + " image named " + e.path.extension().string());
      continue;
    }
    DecodeResult decoded = decode_image(bytes, image_options.channels, limits);
    if (!decoded.image) {
      reject(decoded.problem);
      continue;
    }
    Record record;
    record.payload = pack(resize_shorter_side(*decoded.image, kept_side));
    record.labels = {static_cast<int32_t>(label - names.begin())};
    record.time = static_cast<double>(index);
    record.origin = {static_cast<uint32_t>(e.folder), e.position};
    if (!splitter.add(index, record)) {
      more = false;
      break;
    }
    if (mine) ++file.records_read, ++file.records_accepted;
    ++index;
  }
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
  splitter.finish();
  if (ignored > 0) log::info("data: " + std::to_string(ignored) + " files without an image extension ignored in " + options.path);
  rejects.check_budget(splitter.records_accepted(), options.max_reject_fraction);
  STRATUM_USER_CHECK(splitter.records_accepted() > 0, "data.path: " + options.path + ": no usable images");

  SourceFacts facts;
  facts.spec.kind = InputKind::images;
  facts.spec.input_shape = {image_options.channels, image_options.size, image_options.size};
  facts.spec.num_classes = static_cast<int64_t>(names.size());
  facts.spec.class_names = names;
  facts.unseen_description = "held out from the stream by " + std::string(choice_name(options.unseen.by));
  facts.files = std::move(files);
  facts.records_rejected = rejects.total();
  const int64_t workers = options.workers > 0 ? options.workers
                                              : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()) - 1);
  auto transform = std::make_shared<std::shared_ptr<const ImageTransform>>();
  facts.collate = [&options, context, workers, transform](const std::vector<const Record*>& records,
                                                          const std::vector<int32_t>& targets, DataSpec& spec, bool seen) {
    std::vector<Image> images;
    std::vector<int64_t> labels;
    TensorDataset out;
    for (size_t i = 0; i < records.size(); ++i) {
      images.push_back(unpack(records[i]->payload));
      labels.push_back(!targets.empty() ? targets[i] : records[i]->labels.empty() ? -1 : records[i]->labels[0]);
      out.origins.push_back(records[i]->origin);
    }
    if (seen) {
      // Standardization from the seen split only (or as configured).
      std::vector<float> mean(options.image.mean.begin(), options.image.mean.end());
      std::vector<float> std(options.image.std.begin(), options.image.std.end());
      if (mean.empty() || std.empty()) {
        std::vector<float> m, s;
        const ImageTransform centering(options.image, std::vector<float>(static_cast<size_t>(options.image.channels), 0),
                                       std::vector<float>(static_cast<size_t>(options.image.channels), 1));
        seen_statistics(images, centering, options.image.channels, m, s);
        if (mean.empty()) mean = m;
        if (std.empty()) std = s;
      }
      spec.input_mean = mean;
      spec.input_std = std;
      *transform = std::make_shared<const ImageTransform>(options.image, mean, std);
    }
    out.targets = torch::tensor(labels, torch::kInt64);
    out.store = std::make_shared<ImageStore>(std::move(images), std::move(labels), *transform, spec.input_shape,
                                             splitmix64(context.seed ^ 0x696d616765ull), workers);
    return out;
  };
  return assemble_splits(splitter, std::move(facts), options, context);
}

}  // namespace stratum::data
