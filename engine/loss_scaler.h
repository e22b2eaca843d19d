#pragma once
// Dynamic loss scaling for float16 training: the loss is multiplied by a large factor so small
// gradients survive float16, gradients are divided back before clipping and the optimizer
// step, and a step whose gradients overflowed is skipped and the factor halved. The factor
// grows again after `growth_interval` clean steps (the schedule of PyTorch's GradScaler).

#include <cstdint>
#include <vector>

namespace at {
class Tensor;
}

namespace stratum {

/// The scale factor and its bookkeeping; disabled it is the identity and never skips a step.
class LossScaler {
 public:
  struct Options {
    double init_scale = 65536.0;
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    int64_t growth_interval = 2000;
  };

  explicit LossScaler(bool enabled);
  LossScaler(bool enabled, Options options);

  /// `loss` times the current factor (the loss itself when disabled).
  at::Tensor scale(const at::Tensor& loss) const;

  /// Divides every defined gradient by the factor in place. Returns false when any gradient
  /// holds an inf or NaN: the caller skips the optimizer step and calls `update(false)`.
  bool unscale(const std::vector<at::Tensor>& parameters) const;

  /// Halves the factor after an overflow; grows it after `growth_interval` clean steps.
  void update(bool finite);

  bool enabled() const { return enabled_; }
  double factor() const { return scale_; }
  int64_t clean_steps() const { return clean_steps_; }
  int64_t skipped_steps() const { return skipped_steps_; }

  /// Restores what a checkpoint saved.
  void restore(double factor, int64_t clean_steps, int64_t skipped_steps);

 private:
  bool enabled_;
  Options options_;
  double scale_;
  int64_t clean_steps_ = 0;
  int64_t skipped_steps_ = 0;
};

}  // namespace stratum
