#include "engine/weight_average.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/safetensors.h"
#include "engine/training_checkpoint.h"

namespace stratum {

// Frozen parameters never change, so their average is themselves; integer buffers (quantized
// weights, batch counters) are not averaged.
std::vector<torch::Tensor> averaged_slots(torch::nn::Module& model) {
  std::vector<torch::Tensor> slots;
  for (const torch::Tensor& p : model.parameters()) {
    if (p.requires_grad() && p.is_floating_point()) slots.push_back(p);
  }
  for (const torch::Tensor& b : model.buffers()) {
    if (b.is_floating_point()) slots.push_back(b);
  }
  return slots;
}

WeightAverage::WeightAverage(torch::nn::Module& model, double decay, int64_t start_step)
    : slots_(averaged_slots(model)), decay_(decay), start_step_(start_step) {
  torch::NoGradGuard no_grad;
  for (const torch::Tensor& s : slots_) average_.push_back(s.detach().clone());
}

WeightAverage::~WeightAverage() = default;

void WeightAverage::update(int64_t step) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < slots_.size(); ++i) {
    if (step < start_step_) {
      average_[i].copy_(slots_[i]);
    } else {
      average_[i].mul_(decay_).add_(slots_[i].detach(), 1.0 - decay_);
    }
  }
}

void WeightAverage::swap() {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const torch::Tensor live = slots_[i].detach().clone();
    slots_[i].copy_(average_[i]);
    average_[i].copy_(live);
  }
}

void WeightAverage::restore(const std::vector<torch::Tensor>& saved, const std::string& source) {
  if (saved.size() != average_.size()) {
    throw UserError(source + ": holds " + std::to_string(saved.size()) + " averaged tensors, the model averages " +
                    std::to_string(average_.size()) + "; resume with the config the checkpoint was trained with");
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < saved.size(); ++i) {
    if (saved[i].sizes() != average_[i].sizes() || saved[i].scalar_type() != average_[i].scalar_type()) {
      throw UserError(source + ": averaged tensor " + std::to_string(i) + " is " + shape_text(saved[i].sizes()) +
                      ", the model's is " + shape_text(average_[i].sizes()));
    }
    average_[i].copy_(saved[i]);
  }
}

void use_checkpoint_average(const std::string& dir, torch::nn::Module& model) {
  const std::vector<torch::Tensor> saved = load_checkpoint_tensors(dir, "ema");
  if (saved.empty()) throw UserError(dir + ": --ema: the checkpoint has no ema.pt (it was trained without trainer.ema)");
  WeightAverage average(model, /*decay=*/0.0, /*start_step=*/0);
  average.restore(saved, dir + "/ema.pt");
  average.swap();
}

}  // namespace stratum
