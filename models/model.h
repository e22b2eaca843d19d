#pragma once
// The interface every model implements, built-in or from a plugin.

#include <torch/nn/module.h>

#include <cstdint>
#include <memory>
#include <string>

#include "core/batch.h"
#include "models/tensor_parallel_plan.h"

namespace stratum::models {

class Decoder;

/// A torch::nn::Module that maps a Batch to logits; tasks in core/ turn logits into losses.
class Model : public torch::nn::Module {
 public:
  /// Logits for the batch: (B, classes) for classification, (B, T, vocab) for language models.
  virtual torch::Tensor forward(const data::Batch& batch) = 0;

  /// The representation the classifier head reads, (B, D): what `stratum qa select` measures
  /// diversity on. Models without a separate head return their logits.
  virtual torch::Tensor embed(const data::Batch& batch) { return forward(batch); }

  /// True for models whose logits predict the next token (the trainer picks the task by it).
  virtual bool is_language_model() const { return false; }
  /// Whether forward honours data::Batch::segments (attention and positions restart at each
  /// packed document); `data.pack: documents` needs it.
  virtual bool packs_documents() const { return false; }

  /// The published layout its weights can be exported to and imported from ("gpt2" for
  /// Hugging Face GPT2LMHeadModel names, "timm-vit" for timm's VisionTransformer, "" for
  /// Stratum's own parameter names).
  virtual std::string reference_layout() const { return ""; }

  /// Where one of this model's parameters (by its own dotted name) lives in that layout.
  struct ReferenceName {
    std::string name;
    bool transposed = false;  ///< stored as (in, out), like Hugging Face's GPT-2 Conv1D weights
  };
  virtual ReferenceName reference_name(const std::string& own_name) const { return {own_name, false}; }

  /// True for names a reference file may hold that this model does not need (tied copies,
  /// cached attention masks).
  virtual bool ignored_in_reference(const std::string& name) const {
    (void)name;
    return false;
  }

  /// The model as a step-by-step decoder for `stratum generate` (see decoder.h), or null when it
  /// cannot generate.
  virtual Decoder* decoder() { return nullptr; }

  /// What `distributed.tensor_parallel` may split (see tensor_parallel_plan.h); nothing by default.
  virtual TensorParallelPlan tensor_parallel_plan() { return {}; }
};

using ModelPtr = std::shared_ptr<Model>;

/// Number of scalar parameters in `module` (only those with requires_grad when `trainable_only`).
inline int64_t count_parameters(const torch::nn::Module& module, bool trainable_only = false) {
  int64_t total = 0;
  for (const auto& p : module.parameters()) {
    if (!trainable_only || p.requires_grad()) total += p.numel();
  }
  return total;
}

}  // namespace stratum::models
