#include "engine/mixup.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace stratum {
namespace {

double beta_draw(std::mt19937_64& stream, double alpha) {
  std::gamma_distribution<double> gamma(alpha, 1.0);
  const double x = gamma(stream), y = gamma(stream);
  return x + y > 0 ? x / (x + y) : 0.5;
}

torch::Tensor smoothed_one_hot(const torch::Tensor& targets, int64_t classes, double smoothing) {
  const double off = smoothing / static_cast<double>(classes), on = 1.0 - smoothing + off;
  return torch::full({targets.size(0), classes}, off, torch::kFloat32).scatter_(1, targets.unsqueeze(1).to(torch::kLong), on);
}

}  // namespace

MixedBatch mix_batch(const data::Batch& batch, int64_t classes, double label_smoothing, const MixupOptions& options,
                     uint64_t seed) {
  std::mt19937_64 stream(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  MixedBatch out;
  const torch::Tensor own = smoothed_one_hot(batch.targets.to(torch::kCPU), classes, label_smoothing).to(batch.targets.device());
  out.batch = batch;
  out.batch.targets = own;
  if (!options.enabled() || batch.size() < 2 || unit(stream) >= options.probability) return out;
  const bool both = options.mixup_alpha > 0 && options.cutmix_alpha > 0;
  out.cutmix = options.cutmix_alpha > 0 && (!both || unit(stream) < options.switch_probability);
  out.mixed = true;
  double lambda = beta_draw(stream, out.cutmix ? options.cutmix_alpha : options.mixup_alpha);
  const torch::Tensor reversed = batch.inputs.flip(0);
  if (out.cutmix) {
    const int64_t height = batch.inputs.size(-2), width = batch.inputs.size(-1);
    const double ratio = std::sqrt(1.0 - lambda);
    const auto cut_h = static_cast<int64_t>(static_cast<double>(height) * ratio);
    const auto cut_w = static_cast<int64_t>(static_cast<double>(width) * ratio);
    std::uniform_int_distribution<int64_t> row(0, height - 1), column(0, width - 1);
    const int64_t cy = row(stream), cx = column(stream);
    const int64_t top = std::clamp<int64_t>(cy - cut_h / 2, 0, height), bottom = std::clamp<int64_t>(cy + cut_h / 2, 0, height);
    const int64_t left = std::clamp<int64_t>(cx - cut_w / 2, 0, width), right = std::clamp<int64_t>(cx + cut_w / 2, 0, width);
    torch::Tensor inputs = batch.inputs.clone();
    if (bottom > top && right > left) {
      inputs.narrow(-2, top, bottom - top).narrow(-1, left, right - left)
          .copy_(reversed.narrow(-2, top, bottom - top).narrow(-1, left, right - left));
    }
    lambda = 1.0 - static_cast<double>((bottom - top) * (right - left)) / static_cast<double>(height * width);
    out.batch.inputs = inputs;
  } else {
    out.batch.inputs = batch.inputs * lambda + reversed * (1.0 - lambda);
  }
  out.lambda = lambda;
  out.batch.targets = own * lambda + own.flip(0) * (1.0 - lambda);
  return out;
}

}  // namespace stratum
