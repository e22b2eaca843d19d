#include "data/idx_source.h"

#include <torch/torch.h>

#include <filesystem>

#include "core/error.h"
#include "core/log.h"
#include "data/idx_file.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// Fashion-MNIST's class names in label order (from the data set's documentation).
const std::vector<std::string> kFashionMnistClasses = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                                       "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// `<dir>/<stem>.gz` or `<dir>/<stem>`, whichever exists.
std::string find_idx_file(const std::string& dir, const std::string& stem) {
  for (const std::string& candidate : {stem + ".gz", stem}) {
    const fs::path p = fs::path(dir) / candidate;
    if (fs::exists(p)) return p.string();
  }
  throw UserError("data.path: " + dir + ": no " + stem + " or " + stem + ".gz");
}

struct ImagesAndLabels {
  torch::Tensor images;  // (N, 1, H, W) uint8
  torch::Tensor labels;  // (N) int64
};

ImagesAndLabels read_pair(const std::string& dir, const std::string& prefix, int64_t limit) {
  const std::string images_path = find_idx_file(dir, prefix + "-images-idx3-ubyte");
  const std::string labels_path = find_idx_file(dir, prefix + "-labels-idx1-ubyte");
  IdxArray images = read_idx(images_path);
  IdxArray labels = read_idx(labels_path);
  if (images.dims.size() != 3) {
    throw UserError(images_path + ": expected a 3-D image array (N, H, W), found " +
                    std::to_string(images.dims.size()) + " dimensions");
  }
  if (labels.dims.size() != 1) throw UserError(labels_path + ": expected a 1-D label array");
  if (images.dims[0] != labels.dims[0]) {
    throw UserError(labels_path + ": " + std::to_string(labels.dims[0]) + " labels for " +
                    std::to_string(images.dims[0]) + " images in " + images_path);
  }
  int64_t n = images.dims[0];
  if (limit > 0) n = std::min(n, limit);
  const int64_t h = images.dims[1], w = images.dims[2];
  ImagesAndLabels out;
  out.images = torch::from_blob(images.values.data(), {images.dims[0], 1, h, w}, torch::kUInt8).slice(0, 0, n).clone();
  out.labels = torch::from_blob(labels.values.data(), {labels.dims[0]}, torch::kUInt8).slice(0, 0, n).to(torch::kInt64);
  return out;
}

}  // namespace

bool in_validation(uint64_t index, uint64_t seed, double fraction) {
  const uint64_t h = splitmix64(index ^ splitmix64(seed ^ 0x76616C6964ull));  // "valid"
  return static_cast<double>(h >> 11) * 0x1.0p-53 < fraction;
}

SplitData read_idx_source(const DataSection& options, uint64_t seed) {
  if (options.path.empty()) throw UserError("data.path: the idx source needs the folder holding train-* and t10k-*");
  if (!fs::is_directory(options.path)) throw UserError("data.path: " + options.path + ": no such folder");

  ImagesAndLabels train = read_pair(options.path, "train", options.max_records);
  ImagesAndLabels test = read_pair(options.path, "t10k", 0);
  const int64_t n = train.images.size(0);

  std::vector<int64_t> seen_index, validation_index;
  for (int64_t i = 0; i < n; ++i) {
    (in_validation(static_cast<uint64_t>(i), seed, options.validation_fraction) ? validation_index : seen_index)
        .push_back(i);
  }
  const auto to_tensor = [](const std::vector<int64_t>& v) { return torch::tensor(v, torch::kInt64); };

  // Normalization statistics come from the seen split only, so nothing leaks from held-out data.
  const torch::Tensor seen_images = train.images.index_select(0, to_tensor(seen_index)).to(torch::kFloat32) / 255.0;
  const double mean = seen_images.mean().item<double>();
  const double std = seen_images.std().item<double>();
  const auto normalize = [&](const torch::Tensor& u8) { return (u8.to(torch::kFloat32) / 255.0 - mean) / std; };

  SplitData data;
  const int64_t max_label = std::max(train.labels.max().item<int64_t>(), test.labels.max().item<int64_t>());
  data.spec.input_shape = {1, train.images.size(2), train.images.size(3)};
  data.spec.num_classes = max_label + 1;
  if (data.spec.num_classes == 10 && options.path.find("fashion") != std::string::npos) {
    data.spec.class_names = kFashionMnistClasses;
  } else {
    for (int64_t c = 0; c < data.spec.num_classes; ++c) data.spec.class_names.push_back(std::to_string(c));
  }
  data.seen = {(seen_images - mean) / std, train.labels.index_select(0, to_tensor(seen_index))};
  data.validation = {normalize(train.images.index_select(0, to_tensor(validation_index))),
                     train.labels.index_select(0, to_tensor(validation_index))};
  data.unseen = {normalize(test.images), test.labels};
  data.unseen_description = "file-backed t10k set";
  data.stats.records_read = n + test.images.size(0);
  data.stats.records_accepted = data.stats.records_read;
  log::info("data: " + options.path + ": seen " + std::to_string(data.seen.size()) + ", validation " +
            std::to_string(data.validation.size()) + ", unseen " + std::to_string(data.unseen.size()) +
            " images of " + std::to_string(data.spec.input_shape[1]) + "x" +
            std::to_string(data.spec.input_shape[2]));
  return data;
}

}  // namespace stratum::data
