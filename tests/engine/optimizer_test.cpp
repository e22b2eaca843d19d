// The optimizer path of a training step: gradient clipping that keeps the norm on the device
// gives LibTorch's clip_grad_norm_ results exactly, and the fused AdamW (where LibTorch has the
// kernel for the CPU: 2.4 and later) follows torch::optim::AdamW and shares its checkpoints.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "core/error.h"
#include "core/torch_compat.h"
#include "engine/fused_adamw.h"
#include "engine/optimizer.h"
#include "engine/training/gradient_clipping.h"

namespace stratum {
namespace {

// Two parameter tensors with gradients, and a bias without one.
std::vector<torch::Tensor> parameters_with_grads(double scale, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> params = {torch::randn({16, 8}, torch::requires_grad()), torch::randn({8}, torch::requires_grad()),
                                       torch::randn({4}, torch::requires_grad())};
  params[0].mutable_grad() = torch::randn({16, 8}) * scale;
  params[1].mutable_grad() = torch::randn({8}) * scale;
  return params;
}

TEST(GradientClipping, MatchesLibTorchWithoutReadingTheNorm) {
  for (const double scale : {10.0, 0.01}) {  // clipped, and left alone
    std::vector<torch::Tensor> ours = parameters_with_grads(scale, 7), theirs = parameters_with_grads(scale, 7);
    const torch::Tensor norm = training::clip_gradient_norm(ours, 1.0);
    const double expected = torch::nn::utils::clip_grad_norm_(theirs, 1.0);
    EXPECT_EQ(norm.item<double>(), expected);
    for (size_t i = 0; i < 2; ++i) EXPECT_TRUE(torch::equal(ours[i].grad(), theirs[i].grad())) << "scale " << scale;
    EXPECT_FALSE(ours[2].grad().defined());
  }
  EXPECT_EQ(training::clip_gradient_norm({torch::zeros({3}, torch::requires_grad())}, 1.0).item<double>(), 0.0);
}

struct TinyModel : torch::nn::Module {
  TinyModel() : fc1(register_module("fc1", torch::nn::Linear(12, 16))), fc2(register_module("fc2", torch::nn::Linear(16, 3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::gelu(fc1(x))); }
  torch::nn::Linear fc1, fc2;
};

TrainerOptions adamw(FusedAdamWChoice fused) {
  TrainerOptions o;
  o.lr = 3e-2;
  o.weight_decay = 0.1;
  o.fused_adamw = fused;
  return o;
}

// `steps` steps on fixed data; the optimizer is made (or handed) per call.
void train(TinyModel& model, torch::optim::Optimizer& optimizer, int steps, uint64_t seed) {
  torch::manual_seed(seed);
  const torch::Tensor x = torch::randn({32, 12}), y = torch::randint(0, 3, {32});
  for (int i = 0; i < steps; ++i) {
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(model.forward(x), y).backward();
    optimizer.step();
  }
}

void copy_weights(TinyModel& from, TinyModel& to) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < from.parameters().size(); ++i) to.parameters()[i].copy_(from.parameters()[i]);
}

void expect_close(TinyModel& a, TinyModel& b) {
  for (size_t i = 0; i < a.parameters().size(); ++i) {
    EXPECT_TRUE(torch::allclose(a.parameters()[i], b.parameters()[i], 1e-5, 1e-6))
        << "parameter " << i << ": max difference " << (a.parameters()[i] - b.parameters()[i]).abs().max().item<double>();
  }
}

TEST(FusedAdamW, FollowsAdamWAndSharesItsCheckpoints) {
  if (!compat::has_fused_adamw(/*cuda=*/false)) GTEST_SKIP() << "LibTorch " << compat::torch_version() << " has no CPU fused AdamW";
  TinyModel reference, fused;
  copy_weights(reference, fused);
  auto plain_optimizer = make_optimizer(adamw(FusedAdamWChoice::off), reference);
  auto fused_optimizer = make_optimizer(adamw(FusedAdamWChoice::on), fused);
  ASSERT_NE(dynamic_cast<FusedAdamW*>(fused_optimizer.get()), nullptr);
  ASSERT_EQ(dynamic_cast<FusedAdamW*>(plain_optimizer.get()), nullptr);
  train(reference, *plain_optimizer, 20, 1);
  train(fused, *fused_optimizer, 20, 1);
  expect_close(reference, fused);

  // A checkpoint of either loads into the other and training goes on alike.
  std::stringstream saved_plain, saved_fused;
  torch::serialize::OutputArchive plain_archive, fused_archive;
  plain_optimizer->save(plain_archive);
  fused_optimizer->save(fused_archive);
  plain_archive.save_to(saved_plain);
  fused_archive.save_to(saved_fused);
  TinyModel resumed_fused, resumed_plain;
  copy_weights(reference, resumed_fused);
  copy_weights(fused, resumed_plain);
  auto into_fused = make_optimizer(adamw(FusedAdamWChoice::on), resumed_fused);
  auto into_plain = make_optimizer(adamw(FusedAdamWChoice::off), resumed_plain);
  torch::serialize::InputArchive from_plain, from_fused;
  from_plain.load_from(saved_plain);
  from_fused.load_from(saved_fused);
  into_fused->load(from_plain);
  into_plain->load(from_fused);
  train(reference, *plain_optimizer, 10, 2);
  train(resumed_fused, *into_fused, 10, 2);
  train(resumed_plain, *into_plain, 10, 2);
  expect_close(reference, resumed_fused);
  expect_close(reference, resumed_plain);
}

TEST(FusedAdamW, AutoUsesItOnlyOnCudaAndOnIsRefusedWhereLibTorchLacksIt) {
  TinyModel model;
  EXPECT_EQ(dynamic_cast<FusedAdamW*>(make_optimizer(adamw(FusedAdamWChoice::automatic), model).get()), nullptr);
  EXPECT_EQ(uses_fused_adamw(adamw(FusedAdamWChoice::automatic), /*cuda=*/true), compat::has_fused_adamw(true));
  if (compat::has_fused_adamw(false)) {
    EXPECT_TRUE(uses_fused_adamw(adamw(FusedAdamWChoice::on), false));
  } else {
    try {
      make_optimizer(adamw(FusedAdamWChoice::on), model);
      FAIL() << "fused_adamw: on was accepted without the kernel";
    } catch (const UserError& e) {
      EXPECT_THAT(e.what(), ::testing::HasSubstr("trainer.fused_adamw: on, but LibTorch"));
    }
  }
  TrainerOptions sgd = adamw(FusedAdamWChoice::on);
  sgd.optimizer = OptimizerKind::sgd;
  EXPECT_FALSE(uses_fused_adamw(sgd, true));
}

}  // namespace
}  // namespace stratum
