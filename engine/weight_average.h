#pragma once
// An exponential moving average of a model's weights (trainer.ema): kept beside the live
// weights on the same device, saved in checkpoints as ema.pt, swapped in for evaluation and
// for `stratum export --ema`.

#include <cstdint>
#include <string>
#include <vector>

#include "core/torch_declarations.h"

namespace stratum {

/// The averaged copy of a model's trainable parameters and floating-point buffers (batch-norm
/// statistics), in the order the model lists them.
class WeightAverage {
 public:
  WeightAverage(torch::nn::Module& model, double decay, int64_t start_step);
  ~WeightAverage();

  /// After optimizer step `step`: before start_step the average is a copy of the weights,
  /// from then on average <- decay * average + (1 - decay) * weights.
  void update(int64_t step);

  /// Exchanges the averaged and the live values in the model; a second call exchanges them back.
  void swap();

  /// The averaged tensors, for a checkpoint's ema.pt.
  const std::vector<at::Tensor>& tensors() const { return average_; }

  /// Continues from a checkpoint's ema.pt; a UserError naming `source` when it does not fit.
  void restore(const std::vector<at::Tensor>& saved, const std::string& source);

 private:
  std::vector<at::Tensor> slots_;    ///< the model's own tensors
  std::vector<at::Tensor> average_;  ///< one per slot
  double decay_;
  int64_t start_step_;
};

/// The tensors WeightAverage averages in `model`, in its order (the slots ema.pt fills).
std::vector<at::Tensor> averaged_slots(torch::nn::Module& model);

/// Puts checkpoint `dir`'s weight average (ema.pt) into `model`, which holds the checkpoint's
/// weights (`stratum export --ema`, `stratum eval --ema`); a UserError when it has none.
void use_checkpoint_average(const std::string& dir, torch::nn::Module& model);

/// Swaps a WeightAverage in for a scope (nothing when null): evaluation of the averaged weights.
class AveragedWeightsScope {
 public:
  explicit AveragedWeightsScope(WeightAverage* average) : average_(average) {
    if (average_) average_->swap();
  }
  ~AveragedWeightsScope() {
    if (average_) average_->swap();
  }
  AveragedWeightsScope(const AveragedWeightsScope&) = delete;
  AveragedWeightsScope& operator=(const AveragedWeightsScope&) = delete;

 private:
  WeightAverage* average_;
};

}  // namespace stratum
