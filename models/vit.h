#pragma once
// The Vision Transformer (Dosovitskiy et al. 2021) in timm's layout: patch embedding by a
// strided convolution, class token, learned positions, pre-LayerNorm blocks, linear head.

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <string>

#include "models/adaptable_linear.h"
#include "models/model.h"
#include "models/transformer_shape.h"

namespace stratum::models {

/// The preset of a named size: "s16" (ViT-S/16, 224×224 RGB, 1000 classes, as timm's
/// vit_small_patch16_224) or "tiny" (4 x 64, 4x4 patches, mean pooling: Fashion-MNIST on a CPU).
TransformerShape vit_preset(const std::string& size);

/// Holds the patch convolution as "proj", so parameter names match timm's patch_embed.proj.
class PatchEmbed : public torch::nn::Module {
 public:
  explicit PatchEmbed(const TransformerShape& shape);
  torch::Tensor forward(const torch::Tensor& images);  // (B, C, H, W) -> (B, patches, W)

  torch::nn::Conv2d proj{nullptr};
};

/// Image classifier; logits from the class token's final state, or (mean pooling) from the
/// average of the patch tokens passed through "fc_norm", as timm does with global_pool="avg".
class ViT : public Model {
 public:
  explicit ViT(const TransformerShape& shape);

  torch::Tensor forward(const data::Batch& batch) override;
  torch::Tensor embed(const data::Batch& batch) override;
  /// The blocks' heads and MLPs (the head and embeddings stay whole).
  TensorParallelPlan tensor_parallel_plan() override;
  std::string reference_layout() const override { return "timm-vit"; }

  std::shared_ptr<PatchEmbed> patch_embed;
  torch::Tensor cls_token, pos_embed;
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm norm{nullptr};     ///< class-token pooling: after the blocks
  torch::nn::LayerNorm fc_norm{nullptr};  ///< mean pooling: after averaging
  AdaptableLinear head{nullptr};

 private:
  TransformerShape shape_;
};

}  // namespace stratum::models
