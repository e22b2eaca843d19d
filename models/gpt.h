#pragma once
// The GPT-2-style decoder-only language model: token and position embeddings, causal
// pre-LayerNorm blocks, a final LayerNorm and an output projection tied to the embedding.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

#include <memory>
#include <string>
#include <vector>

#include "models/decoder.h"
#include "models/model.h"
#include "models/tensor_parallel_ops.h"
#include "models/transformer_shape.h"

namespace stratum::models {

/// The preset of a named size: "tiny" (tests; vocabulary and context from the data), "125m"
/// (GPT-2 small) or "350m" (GPT-2 medium).
TransformerShape gpt_preset(const std::string& size);

/// Decoder-only LM; logits (B, T, vocab) predict token t+1 from tokens ≤ t.
class GPT : public Model, public Decoder {
 public:
  explicit GPT(const TransformerShape& shape);

  torch::Tensor forward(const data::Batch& batch) override;
  bool is_language_model() const override { return true; }
  bool packs_documents() const override { return true; }
  std::string reference_layout() const override { return "gpt2"; }
  ReferenceName reference_name(const std::string& own_name) const override;
  bool ignored_in_reference(const std::string& name) const override;
  /// The blocks' heads and MLPs, and the vocabulary (token embedding and tied output projection).
  TensorParallelPlan tensor_parallel_plan() override;

  const TransformerShape& shape() const { return shape_; }

  Decoder* decoder() override { return this; }
  int64_t context() const override { return shape_.context; }
  torch::Tensor forward_cached(const torch::Tensor& tokens, const torch::Tensor& positions, const torch::Tensor& key_keep,
                               KeyValueCache& cache) override;

  /// Splits the vocabulary over a tensor-parallel group: rank r's token_embedding holds rows
  /// [Σ sizes[<r], + sizes[r]) (already sliced by the caller). Token lookups are then summed
  /// over the group, and logits in training are this rank's vocabulary slice (the loss is a
  /// vocabulary-parallel cross-entropy); in evaluation they are gathered whole.
  void split_vocabulary(std::shared_ptr<TensorParallelOps> ops, std::vector<int64_t> sizes);
  /// The first token id of this rank's slice, and its size (0 and the vocabulary when unsplit).
  int64_t vocab_start() const;
  int64_t vocab_size() const;

  torch::nn::Embedding token_embedding{nullptr}, position_embedding{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};

 private:
  TransformerShape shape_;
  std::shared_ptr<TensorParallelOps> vocab_ops_;
  std::vector<int64_t> vocab_sizes_;
};

}  // namespace stratum::models
