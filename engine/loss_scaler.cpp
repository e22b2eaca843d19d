#include "engine/loss_scaler.h"

#include <torch/torch.h>

#include "core/error.h"

namespace stratum {

LossScaler::LossScaler(bool enabled) : LossScaler(enabled, Options{}) {}

LossScaler::LossScaler(bool enabled, Options options)
    : enabled_(enabled), options_(options), scale_(enabled ? options.init_scale : 1.0) {
  STRATUM_CHECK(options.init_scale > 0 && options.growth_factor > 1 && options.backoff_factor > 0 &&
                    options.backoff_factor < 1 && options.growth_interval > 0,
                "invalid loss-scaler options");
}

at::Tensor LossScaler::scale(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool LossScaler::unscale(const std::vector<at::Tensor>& parameters) const {
  if (!enabled_) return true;
  // One flag on the device, read once: a single host synchronisation per step.
  at::Tensor overflow;
  const double inverse = 1.0 / scale_;
  for (const at::Tensor& p : parameters) {
    at::Tensor grad = p.grad();
    if (!grad.defined()) continue;
    grad.mul_(inverse);
    const at::Tensor bad = grad.isfinite().logical_not().any();
    overflow = overflow.defined() ? overflow.logical_or(bad) : bad;
  }
  return !overflow.defined() || !overflow.item<bool>();
}

void LossScaler::update(bool finite) {
  if (!enabled_) return;
  if (!finite) {
    scale_ *= options_.backoff_factor;
    clean_steps_ = 0;
    ++skipped_steps_;
    return;
  }
  if (++clean_steps_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    clean_steps_ = 0;
  }
}

void LossScaler::restore(double factor, int64_t clean_steps, int64_t skipped_steps) {
  if (!enabled_) return;
  scale_ = factor;
  clean_steps_ = clean_steps;
  skipped_steps_ = skipped_steps;
}

}  // namespace stratum
