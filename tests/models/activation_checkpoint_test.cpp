#include "models/activation_checkpoint.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>

#include "models/model_registry.h"
#include "models/builtin_models.h"
#include "models/transformer_block.h"

namespace stratum::models {
namespace {

struct Pass {
  torch::Tensor loss;
  std::map<std::string, torch::Tensor> grads;
  torch::Tensor next_draw;  // the random stream after the step
};

// One training step of a gpt-tiny with dropout on; `recompute` checkpoints every block.
Pass step(bool recompute) {
  torch::manual_seed(3);
  models::ModelRegistry registry{"model"};
  register_builtin_models(registry);
  models::ModelOptions options;
  options.name = "gpt-tiny";
  options.layers = 3, options.width = 32, options.heads = 4, options.mlp_hidden = 64, options.context = 16;
  options.dropout = 0.2;
  ModelPtr model = build_model(registry, options, data::byte_token_spec(16));
  model->train();
  for (const auto& module : model->modules(false)) {
    if (auto* block = dynamic_cast<TransformerBlock*>(module.get())) block->recompute = recompute;
  }
  const torch::Tensor tokens = torch::randint(0, 256, {4, 16}, torch::kInt64);
  torch::manual_seed(11);  // the same dropout masks in both passes, unless recomputation broke them
  Pass pass;
  pass.loss = model->forward({tokens, {}}).pow(2).mean();
  pass.loss.backward();
  for (const auto& item : model->named_parameters()) pass.grads[item.key()] = item.value().grad().clone();
  pass.next_draw = torch::rand({4});
  return pass;
}

TEST(ActivationCheckpoint, GradientsEqualThePlainPassWithDropoutOn) {
  const Pass plain = step(false), recomputed = step(true);
  EXPECT_TRUE(torch::equal(plain.loss, recomputed.loss));
  ASSERT_EQ(plain.grads.size(), recomputed.grads.size());
  double worst = 0;
  for (const auto& [name, grad] : plain.grads) {
    ASSERT_TRUE(recomputed.grads.at(name).defined()) << name;
    worst = std::max(worst, (grad - recomputed.grads.at(name)).abs().max().item<double>());
  }
  std::printf("max |gradient difference| with recomputation: %.3g\n", worst);
  EXPECT_LE(worst, 1e-6);
  EXPECT_TRUE(torch::equal(plain.next_draw, recomputed.next_draw));  // the random stream moves on identically
}

TEST(ActivationCheckpoint, InputGradientsFlowAndNoGradModeIsAPlainCall) {
  const torch::Tensor w = torch::randn({3, 3}, torch::requires_grad());
  const auto f = [&](const torch::Tensor& x) { return torch::tanh(torch::matmul(x, w)); };
  const torch::Tensor x = torch::randn({2, 3}, torch::requires_grad());
  checkpointed(f, x, {w}).sum().backward();
  const torch::Tensor gx = x.grad().clone(), gw = w.grad().clone();
  x.mutable_grad().reset(), w.mutable_grad().reset();
  f(x).sum().backward();
  EXPECT_TRUE(torch::allclose(gx, x.grad(), 0, 1e-7));
  EXPECT_TRUE(torch::allclose(gw, w.grad(), 0, 1e-7));
  torch::NoGradGuard no_grad;
  EXPECT_FALSE(checkpointed(f, x, {w}).requires_grad());
}

}  // namespace
}  // namespace stratum::models
