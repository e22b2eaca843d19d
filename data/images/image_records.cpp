#include "data/images/image_records.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <thread>

#include <torch/torch.h>

#include "core/error.h"
#include "data/images/image_augment.h"
#include "data/images/image_store.h"
#include "data/images/resample.h"
#include "data/reject_log.h"
#include "data/rng.h"
#include "data/splits/assemble.h"
#include "data/splits/stream_splitter.h"

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

}  // namespace

Image unpack_image(const std::string& payload) {
  uint32_t h = 0, w = 0;
  STRATUM_CHECK(payload.size() >= 9, "image record too short");
  std::memcpy(&h, payload.data(), 4);
  std::memcpy(&w, payload.data() + 4, 4);
  Image image{h, w, static_cast<unsigned char>(payload[8]), {}};
  STRATUM_CHECK(payload.size() == 9 + static_cast<size_t>(h) * w * image.channels, "image record of the wrong size");
  image.pixels.assign(payload.begin() + 9, payload.end());
  return image;
}

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The format a file's extension promises ("" for a file that is not an image by name).
std::string format_of_extension(const std::string& name) {
  const std::string ext = lower(std::filesystem::path(name).extension().string());
  if (ext == ".jpg" || ext == ".jpeg") return "jpeg";
  if (ext == ".png") return "png";
  if (ext == ".webp") return "webp";
  return "";
}

// Per-channel mean and deviation of [0, 1] pixels over the seen split's evaluation windows.
void seen_statistics(const std::vector<Image>& images, int64_t size, int64_t channels, std::vector<float>& mean,
                     std::vector<float>& std) {
  std::vector<double> sum(static_cast<size_t>(channels), 0), squares(static_cast<size_t>(channels), 0);
  double count = 0;
  for (const Image& kept : images) {
    const Image window = center_window(kept, size);
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

std::string image_format_of_name(const std::string& name) { return format_of_extension(name); }

void check_image_options(const DataOptions& options) {
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
  if (at(ImageAugmentation::rand_augment) > at(ImageAugmentation::color_jitter)) {
    throw UserError("data.image.augment: rand_augment works on 8-bit pixels; list it before color_jitter");
  }
  if (image.rand_augment_magnitude >= image.rand_augment_bins) {
    throw UserError("data.image.rand_augment_magnitude: " + std::to_string(image.rand_augment_magnitude) +
                    " is not a bin of rand_augment_bins (" + std::to_string(image.rand_augment_bins) + "): at most " +
                    std::to_string(image.rand_augment_bins - 1));
  }
  for (const ImageAugmentation op : ops) {
    if (std::count(ops.begin(), ops.end(), op) > 1) {
      throw UserError(std::string("data.image.augment: ") + choice_name(op) + " is listed twice");
    }
  }
  if (options.unseen.by == UnseenBy::file || options.unseen.by == UnseenBy::source) {
    throw UserError(std::string("data.unseen.by: \"") + choice_name(options.unseen.by) +
                    "\" is not available for image sources; use label (whole classes), time or none");
  }
}

std::optional<std::string> image_record(const std::string& bytes, const std::string& name, const ImageOptions& options,
                                        Record& record) {
  if (static_cast<int64_t>(bytes.size()) > options.max_file_bytes) {
    return "file of " + std::to_string(bytes.size()) + " bytes is over data.image.max_file_bytes";
  }
  const std::string format = image_format(bytes);
  const std::string promised = format_of_extension(name);
  if (!format.empty() && format != promised) {
    return "a " + format + " image named " + std::filesystem::path(name).extension().string();
  }
  DecodeResult decoded = decode_image(bytes, options.channels, DecodeLimits{options.max_pixels});
  if (!decoded.image) return decoded.problem;
  record.payload = pack(resize_shorter_side(*decoded.image, options.resize > 0 ? options.resize : options.size));
  return std::nullopt;
}

int64_t image_workers(const DataOptions& options) {
  return options.workers > 0 ? options.workers
                             : std::max<int64_t>(1, static_cast<int64_t>(std::thread::hardware_concurrency()) - 1);
}

std::function<TensorDataset(const std::vector<const Record*>&, const std::vector<int32_t>&, DataSpec&, bool)>
image_collation(const DataOptions& options, const DataContext& context) {
  const int64_t workers = image_workers(options);
  auto transform = std::make_shared<std::shared_ptr<const ImageTransform>>();
  return [image = options.image, seed = context.seed, workers, transform](const std::vector<const Record*>& records,
                                                          const std::vector<int32_t>& targets, DataSpec& spec, bool seen) {
    std::vector<Image> images;
    std::vector<int64_t> labels;
    TensorDataset out;
    for (size_t i = 0; i < records.size(); ++i) {
      images.push_back(unpack_image(records[i]->payload));
      labels.push_back(!targets.empty() ? targets[i] : records[i]->labels.empty() ? -1 : records[i]->labels[0]);
      out.add_record_facts(*records[i]);
    }
    if (seen) {
      // Standardization from the seen split only (or as configured).
      std::vector<float> mean(image.mean.begin(), image.mean.end());
      std::vector<float> std(image.std.begin(), image.std.end());
      if (mean.empty() || std.empty()) {
        std::vector<float> m, s;
        seen_statistics(images, image.size, image.channels, m, s);
        if (mean.empty()) mean = m;
        if (std.empty()) std = s;
      }
      spec.input_mean = mean;
      spec.input_std = std;
      *transform = std::make_shared<const ImageTransform>(image, mean, std);
    }
    out.targets = torch::tensor(labels, torch::kInt64);
    out.store = std::make_shared<ImageStore>(std::move(images), std::move(labels), *transform, spec.input_shape,
                                             splitmix64(seed ^ 0x696d616765ull), workers);
    return out;
  };
}

SplitData finish_image_source(StreamSplitter& splitter, const RejectLog& rejects, std::vector<std::string> class_names,
                              std::vector<SourceFile> files, const DataOptions& options, const DataContext& context,
                              const std::string& nothing) {
  splitter.finish();
  rejects.check_budget(splitter.records_accepted(), options.max_reject_fraction);
  STRATUM_USER_CHECK(splitter.records_accepted() > 0, "data.path: " + options.path + ": " + nothing);
  SourceFacts facts;
  facts.spec.kind = InputKind::images;
  facts.spec.input_shape = {options.image.channels, options.image.size, options.image.size};
  facts.spec.num_classes = static_cast<int64_t>(class_names.size());
  facts.spec.class_names = std::move(class_names);
  facts.unseen_description = "held out from the stream by " + std::string(choice_name(options.unseen.by));
  facts.files = std::move(files);
  facts.records_rejected = rejects.total();
  facts.collate = image_collation(options, context);
  return assemble_splits(splitter, std::move(facts), options, context);
}

}  // namespace stratum::data
