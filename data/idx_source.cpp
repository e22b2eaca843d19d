#include "data/idx_source.h"

#include <torch/torch.h>

#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "data/hash.h"
#include "data/idx_file.h"
#include "data/manifest.h"
#include "data/reject_log.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// Fashion-MNIST's class names in label order (from the data set's documentation).
const std::vector<std::string> kFashionMnistClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

// `<dir>/<stem>.gz` or `<dir>/<stem>`, whichever exists.
std::string find_idx_file(const std::string& dir, const std::string& stem) {
  for (const std::string& candidate : {stem + ".gz", stem}) {
    const fs::path p = fs::path(dir) / candidate;
    if (fs::exists(p)) return p.string();
  }
  throw UserError("data.path: " + dir + ": no " + stem + " or " + stem + ".gz");
}

// One image file and its label file, read as a stream of records.
class IdxPair {
 public:
  IdxPair(const std::string& dir, const std::string& prefix, RejectLog& rejects)
      : images_path_(find_idx_file(dir, prefix + "-images-idx3-ubyte")),
        labels_path_(find_idx_file(dir, prefix + "-labels-idx1-ubyte")),
        images_(read_idx(images_path_, &rejects)),
        labels_(read_idx(labels_path_, &rejects)) {
    if (!images_.dims.empty() && images_.dims.size() != 3) {
      throw UserError(images_path_ + ": expected a 3-D image array (N, H, W), found " +
                      std::to_string(images_.dims.size()) + " dimensions");
    }
    if (!labels_.dims.empty() && labels_.dims.size() != 1) throw UserError(labels_path_ + ": expected a 1-D label array");
    const int64_t n_images = images_.dims.empty() ? 0 : images_.dims[0];
    const int64_t n_labels = labels_.dims.empty() ? 0 : labels_.dims[0];
    size_ = std::min(n_images, n_labels);
    // Records that have an image but no label (or the reverse) cannot be used.
    if (n_images > size_) {
      rejects.reject(images_path_, 16 + static_cast<uint64_t>(size_ * row_bytes()),
                     "image without a label in " + labels_path_, n_images - size_);
    }
    if (n_labels > size_) {
      rejects.reject(labels_path_, 8 + static_cast<uint64_t>(size_), "label without an image in " + images_path_,
                     n_labels - size_);
    }
    prefix_ = prefix;
  }

  int64_t size() const { return size_; }
  int64_t height() const { return images_.dims.empty() ? 0 : images_.dims[1]; }
  int64_t width() const { return images_.dims.empty() ? 0 : images_.dims[2]; }
  int64_t row_bytes() const { return height() * width(); }
  const uint8_t* image(int64_t i) const { return images_.values.data() + i * row_bytes(); }
  int32_t label(int64_t i) const { return labels_.values[static_cast<size_t>(i)]; }

  std::vector<SourceFile> files(int64_t accepted, int64_t read, const RejectLog& rejects) const {
    const auto rejected = [&](const std::string& path) {
      const auto it = rejects.by_source().find(path);
      return it == rejects.by_source().end() ? int64_t{0} : it->second;
    };
    return {{prefix_ + "-images", images_path_, read, accepted, rejected(images_path_)},
            {prefix_ + "-labels", labels_path_, read, accepted, rejected(labels_path_)}};
  }

 private:
  std::string images_path_, labels_path_, prefix_;
  IdxArray images_, labels_;
  int64_t size_ = 0;
};

// Stacks image records into (N, 1, H, W) uint8 and their primary labels into (N) int64.
TensorDataset stack(const std::vector<const Record*>& records, int64_t h, int64_t w) {
  const auto n = static_cast<int64_t>(records.size());
  torch::Tensor images = torch::empty({n, 1, h, w}, torch::kUInt8);
  torch::Tensor labels = torch::empty({n}, torch::kInt64);
  auto* pixels = images.data_ptr<uint8_t>();
  auto* ids = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(pixels + i * h * w, records[i]->payload.data(), static_cast<size_t>(h * w));
    ids[i] = records[i]->labels[0];
  }
  return {images, labels};
}

std::vector<int64_t> count_labels(const torch::Tensor& labels, int64_t classes) {
  std::vector<int64_t> counts(static_cast<size_t>(classes), 0);
  const auto* ids = labels.data_ptr<int64_t>();
  for (int64_t i = 0; i < labels.size(0); ++i) ++counts[static_cast<size_t>(ids[i])];
  return counts;
}

}  // namespace

bool in_validation(uint64_t record_hash, uint64_t seed, double fraction) {
  const uint64_t h = splitmix64(record_hash ^ splitmix64(seed ^ 0x76616C6964ull));  // "valid"
  return static_cast<double>(h >> 11) * 0x1.0p-53 < fraction;
}

SplitData read_idx_source(const DataSection& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the idx source needs the folder holding train-* and t10k-*");
  if (!fs::is_directory(options.path)) throw UserError("data.path: " + options.path + ": no such folder");
  RejectLog rejects(context.rejects_path);

  const IdxPair train(options.path, "train", rejects);
  const IdxPair test(options.path, "t10k", rejects);
  const int64_t h = train.height(), w = train.width();

  // Stream the training file: this rank's share, validation by content hash, the rest
  // through the stratified reservoirs.
  StratifiedReservoir reservoir(options.reservoir, context.seed);
  std::vector<Record> validation;
  int64_t read = 0;
  Record record;
  for (int64_t i = 0; i < train.size(); ++i) {
    if (i % context.world_size != context.rank) continue;
    if (options.max_records > 0 && read >= options.max_records) break;
    ++read;
    record.payload.assign(reinterpret_cast<const char*>(train.image(i)), static_cast<size_t>(h * w));
    record.labels.assign(1, train.label(i));
    record.time = static_cast<double>(i);
    record.origin = {0, 16 + static_cast<uint64_t>(i * h * w)};
    if (in_validation(content_hash(record.payload.data(), record.payload.size()), context.seed,
                      options.validation_fraction)) {
      validation.push_back(record);
    } else {
      reservoir.offer(record);
    }
  }
  reservoir.rebalance();
  rejects.check_budget(read + test.size(), options.max_reject_fraction);
  STRATUM_USER_CHECK(read > 0, "data.path: " + options.path + ": the training stream has no usable records");
  if (test.size() > 0 && (test.height() != h || test.width() != w)) {
    throw UserError("data.path: " + options.path + ": t10k images are " + std::to_string(test.height()) + "x" +
                    std::to_string(test.width()) + " but train images are " + std::to_string(h) + "x" +
                    std::to_string(w));
  }

  std::vector<const Record*> seen_records, validation_records, test_records;
  for (int32_t label : reservoir.labels()) {
    for (const Record& r : reservoir.reservoir(label).items()) seen_records.push_back(&r);
  }
  for (const Record& r : validation) validation_records.push_back(&r);
  std::vector<Record> test_store(static_cast<size_t>(test.size()));
  for (int64_t i = 0; i < test.size(); ++i) {
    test_store[i].payload.assign(reinterpret_cast<const char*>(test.image(i)), static_cast<size_t>(h * w));
    test_store[i].labels.assign(1, test.label(i));
    test_records.push_back(&test_store[i]);
  }
  TensorDataset seen = stack(seen_records, h, w), held = stack(validation_records, h, w),
                unseen = stack(test_records, h, w);

  // Normalization statistics come from the seen split only, so nothing leaks from held-out data.
  const torch::Tensor seen_float = seen.inputs.to(torch::kFloat32) / 255.0;
  const double mean = seen_float.mean().item<double>();
  const double stddev = std::max(seen_float.std().item<double>(), 1e-6);
  const auto normalize = [&](const torch::Tensor& u8) { return (u8.to(torch::kFloat32) / 255.0 - mean) / stddev; };

  SplitData data;
  int64_t max_label = seen.targets.numel() ? seen.targets.max().item<int64_t>() : 0;
  if (unseen.targets.numel()) max_label = std::max(max_label, unseen.targets.max().item<int64_t>());
  if (held.targets.numel()) max_label = std::max(max_label, held.targets.max().item<int64_t>());
  data.spec.input_shape = {1, h, w};
  data.spec.num_classes = max_label + 1;
  if (data.spec.num_classes == 10 && options.path.find("fashion") != std::string::npos) {
    data.spec.class_names = kFashionMnistClasses;
  } else {
    for (int64_t c = 0; c < data.spec.num_classes; ++c) data.spec.class_names.push_back(std::to_string(c));
  }
  data.seen = {(seen_float - mean) / stddev, seen.targets};
  data.validation = {normalize(held.inputs), held.targets};
  data.unseen = {normalize(unseen.inputs), unseen.targets};
  data.unseen_description = "file-backed t10k set";
  data.files = train.files(read, read, rejects);
  for (auto& f : test.files(test.size(), test.size(), rejects)) data.files.push_back(f);
  data.sampler = reservoir.stats();
  data.label_counts["seen"] = count_labels(data.seen.targets, data.spec.num_classes);
  data.label_counts["validation"] = count_labels(data.validation.targets, data.spec.num_classes);
  data.label_counts["unseen"] = count_labels(data.unseen.targets, data.spec.num_classes);

  data.manifest = manifest_json(data, options, context.seed);
  log::info("data: " + options.path + ": read " + std::to_string(read) + " training records (rank " +
            std::to_string(context.rank) + " of " + std::to_string(context.world_size) + "); seen " +
            std::to_string(data.seen.size()) + " kept by the reservoirs, validation " +
            std::to_string(data.validation.size()) + ", unseen " + std::to_string(data.unseen.size()) + "; " +
            std::to_string(rejects.total()) + " rejected");
  return data;
}

}  // namespace stratum::data
