#pragma once
// What the trainer needs from a model split over a tensor-parallel group. distributed/
// implements it (Megatron-style layers over a c10d process group); core only sees this.

#include <cstdint>
#include <string>
#include <vector>

#include "core/torch_declarations.h"

namespace stratum {

class Collectives;
namespace models {
class Model;
}

/// One model split across the ranks of a tensor-parallel group.
class TensorParallelism {
 public:
  virtual ~TensorParallelism() = default;
  /// The ranks the model is split across.
  virtual Collectives& group() = 0;
  /// Splits `model` (built whole, and the same, on every rank of the group: same seed, same
  /// adapters) into this rank's part; a line for the log. A UserError naming the model.*
  /// setting when it cannot be split this way.
  virtual std::string split(models::Model& model) = 0;
  /// Mean next-token cross-entropy of the split model's training logits.
  virtual at::Tensor next_token_loss(const at::Tensor& logits, const at::Tensor& tokens, int64_t pad_token) = 0;
  /// Scales the gradients so that the whole model's gradient norm is at most `max_norm`, as
  /// torch::nn::utils::clip_grad_norm_ would on the unsplit model; returns the norm before.
  virtual double clip_gradient_norm(torch::nn::Module& model, double max_norm) = 0;
  /// Gives every split parameter — and its state in `optimizer`, when not null — its whole
  /// tensor, gathered from the group, until restore_split(): checkpoints are written whole,
  /// so they load at any tensor-parallel degree and into one process. The whole group calls it.
  virtual void gather_whole(torch::optim::Optimizer* optimizer) = 0;
  virtual void restore_split() = 0;
  /// Cuts an optimizer state loaded whole from a checkpoint down to this rank's parts.
  virtual void split_optimizer_state(torch::optim::Optimizer& optimizer) = 0;
  /// The parameters of `model` every rank of the group holds whole (norms, biases of row-split
  /// layers, positions): equal on every rank by construction (same gradients, same updates).
  virtual std::vector<at::Tensor> unsplit_parameters(const torch::nn::Module& model) const = 0;
};

}  // namespace stratum
