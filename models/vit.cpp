#include "models/vit.h"

#include <torch/torch.h>

#include "core/error.h"
#include "models/init.h"
#include "models/transformer_block.h"

namespace stratum::models {

TransformerShape vit_preset(const std::string& size) {
  TransformerShape shape;
  shape.gelu_tanh = false;
  shape.norm_eps = 1e-6;
  if (size == "s16") {
    shape.layers = 12;
    shape.width = 384;
    shape.heads = 6;
    shape.mlp_hidden = 1536;
    shape.patch_size = 16;
    shape.image_size = 224;
  } else {
    STRATUM_CHECK(size == "tiny", "unknown vit size " + size);
    // Sized so the Fashion-MNIST quickstart passes 88% test accuracy in ~12 minutes on 2
    // cores: small and wide enough per token, 7x7 patches of 4x4, mean pooling (which trains
    // faster from scratch than a class token at this size).
    shape.layers = 4;
    shape.width = 64;
    shape.heads = 4;
    shape.mlp_hidden = 128;
    shape.patch_size = 4;
    shape.mean_pool = true;
  }
  return shape;
}

PatchEmbed::PatchEmbed(const TransformerShape& shape) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape.channels, shape.width, shape.patch_size)
                                                       .stride(shape.patch_size)));
}

torch::Tensor PatchEmbed::forward(const torch::Tensor& images) {
  return proj->forward(images).flatten(2).transpose(1, 2);
}

ViT::ViT(const TransformerShape& shape) : shape_(shape) {
  patch_embed = register_module("patch_embed", std::make_shared<PatchEmbed>(shape));
  cls_token = register_parameter("cls_token", torch::zeros({1, 1, shape.width}));
  if (shape.positions == Positions::learned) {
    pos_embed = register_parameter("pos_embed", torch::zeros({1, shape.patches() + 1, shape.width}));
  }
  blocks = register_module("blocks", make_blocks(shape, /*causal=*/false));
  if (shape.mean_pool) {
    fc_norm = register_module("fc_norm", make_norm(shape));
  } else {
    norm = register_module("norm", make_norm(shape));
  }
  head = register_module("head", AdaptableLinear(shape.width, shape.num_classes));
  init_vit(*this);
  torch::NoGradGuard no_grad;
  if (pos_embed.defined()) truncated_normal_(pos_embed, 0.02);
  cls_token.normal_(0.0, 1e-6);
}

torch::Tensor ViT::forward(const data::Batch& batch) { return head->forward(embed(batch)); }

TensorParallelPlan ViT::tensor_parallel_plan() { return plan_blocks(blocks, "blocks"); }

torch::Tensor ViT::embed(const data::Batch& batch) {
  torch::Tensor x = patch_embed->forward(batch.inputs);                     // (B, N, W), N patches
  x = torch::cat({cls_token.expand({x.size(0), 1, shape_.width}), x}, 1);  // (B, 1+N, W)
  if (pos_embed.defined()) x = x + pos_embed;                               // + (1, 1+N, W)
  x = torch::dropout(x, shape_.dropout, is_training());
  x = run_blocks(blocks, x);  // (B, 1+N, W)
  // (B, W): the patch tokens' mean, or the class token's state
  if (shape_.mean_pool) return fc_norm->forward(x.narrow(1, 1, x.size(1) - 1).mean(1));
  return norm->forward(x).select(1, 0);
}

}  // namespace stratum::models
