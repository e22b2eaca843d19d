#include "engine/cli/data_preview.h"

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "data/images/image_encode.h"
#include "data/rng.h"
#include "engine/cli/checkpoint_pipeline.h"
#include "engine/mixup.h"

namespace fs = std::filesystem;

namespace stratum::cli {
namespace {

constexpr int64_t kColumns = 8;

// Normalized (B, C, H, W) inputs back to 8-bit images: x · std + mean per channel (one value
// for all channels when the spec has one), scaled to 0-255 and rounded.
std::vector<data::Image> to_images(const torch::Tensor& inputs, const data::DataSpec& spec) {
  const int64_t channels = inputs.size(1);
  torch::Tensor mean = spec.input_mean.empty() ? torch::zeros({1}) : torch::tensor(spec.input_mean);
  torch::Tensor stddev = spec.input_std.empty() ? torch::ones({1}) : torch::tensor(spec.input_std);
  if (mean.numel() == channels) mean = mean.reshape({1, channels, 1, 1});
  if (stddev.numel() == channels) stddev = stddev.reshape({1, channels, 1, 1});
  const torch::Tensor pixels = (inputs.to(torch::kFloat32) * stddev + mean)
                                   .mul(255.0)
                                   .round()
                                   .clamp(0, 255)
                                   .to(torch::kUInt8)
                                   .permute({0, 2, 3, 1})
                                   .contiguous();
  std::vector<data::Image> out;
  for (int64_t i = 0; i < pixels.size(0); ++i) {
    data::Image image;
    image.height = pixels.size(1), image.width = pixels.size(2), image.channels = channels;
    const uint8_t* first = pixels[i].data_ptr<uint8_t>();
    image.pixels.assign(first, first + image.height * image.width * channels);
    out.push_back(std::move(image));
  }
  return out;
}

}  // namespace

std::string write_preview(const RunConfig& config, const data::SplitData& data, const std::string& dir, int64_t count,
                          int64_t epoch) {
  if (data.spec.kind != data::InputKind::images || data.spec.input_shape.size() != 3) {
    throw UserError("stratum data preview: the configured data are " +
                    std::string(data.spec.kind == data::InputKind::tokens ? "token sequences" : "feature vectors") +
                    ", not images; preview draws image examples");
  }
  const int64_t size = data.seen.size();
  const int64_t n = std::min(count, size);
  // Evenly spaced: the seen split is stored label by label, so every class shows.
  const torch::Tensor indices = torch::arange(n, torch::kInt64).mul(size).div(n, /*rounding_mode=*/"floor");
  data::Batch training = data.seen.gather_training(indices, epoch);
  const data::Batch evaluation = data.seen.gather(indices);
  const MixupOptions& mixup = config.trainer.mixup;
  double lambda = 1;
  bool mixed = false, cutmix = false;
  if (mixup.enabled()) {
    const int64_t classes = config.model.num_classes > 0 ? config.model.num_classes : data.spec.num_classes;
    const MixedBatch m = mix_batch(training, classes, config.trainer.label_smoothing, mixup,
                                   data::splitmix64(static_cast<uint64_t>(config.run.seed) ^ 0x70726576ull));
    training = m.batch;
    lambda = m.lambda, mixed = m.mixed, cutmix = m.cutmix;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw UserError(dir + ": cannot create the preview folder: " + ec.message());
  const std::string training_png = (fs::path(dir) / "training.png").string();
  const std::string evaluation_png = (fs::path(dir) / "evaluation.png").string();
  const std::string index_json = (fs::path(dir) / "preview.json").string();
  write_file_atomically(training_png, data::encode_png(data::tile_images(to_images(training.inputs, data.spec), kColumns, 2)));
  write_file_atomically(evaluation_png,
                        data::encode_png(data::tile_images(to_images(evaluation.inputs, data.spec), kColumns, 2)));

  nlohmann::ordered_json index;
  index["epoch"] = epoch;
  index["columns"] = kColumns;
  index["augment"] = nlohmann::json::array();
  for (const auto a : config.data.image.augment) index["augment"].push_back(choice_name(a));
  index["mixing"] = mixed ? nlohmann::ordered_json{{"kind", cutmix ? "cutmix" : "mixup"}, {"lambda", lambda}}
                          : nlohmann::ordered_json(nullptr);
  index["cells"] = nlohmann::ordered_json::array();
  const auto* ids = evaluation.targets.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const int64_t example = indices[i].item<int64_t>();
    const int64_t label = ids[i];
    nlohmann::ordered_json cell;
    cell["cell"] = i;
    cell["example"] = example;
    cell["label"] = label >= 0 && static_cast<size_t>(label) < data.spec.class_names.size()
                        ? data.spec.class_names[static_cast<size_t>(label)]
                        : std::to_string(label);
    if (static_cast<size_t>(example) < data.seen.origins.size()) {
      cell["record"] = record_id(data.seen.origins[static_cast<size_t>(example)]);
    }
    if (mixed) cell["mixed_with_cell"] = n - 1 - i;  // each example is blended with the batch reversed
    index["cells"].push_back(cell);
  }
  write_file_atomically(index_json, index.dump(2) + "\n");
  return std::to_string(n) + " seen examples (epoch " + std::to_string(epoch) + "): " + training_png + " (as training sees them" +
         (mixed ? std::string(cutmix ? ", CutMix" : ", Mixup") + " lambda " + std::to_string(lambda) : std::string()) +
         "), " + evaluation_png + " (as evaluation sees them), " + index_json;
}

}  // namespace stratum::cli
