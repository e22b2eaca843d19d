// The exponential moving average of the weights (trainer.ema): its arithmetic, swapping it in
// and out, and what a checkpoint keeps of it.

#include "engine/weight_average.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "engine/training_checkpoint.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum {
namespace {

torch::nn::Sequential small_model() {
  torch::manual_seed(0);
  return torch::nn::Sequential(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4), torch::nn::Linear(4, 2));
}

TEST(WeightAverage, FollowsTheClosedFormAndSwapsInAndOut) {
  auto model = small_model();
  // Trainable weights and float buffers (batch-norm statistics) are averaged; counters are not.
  EXPECT_EQ(averaged_slots(*model).size(), 6u + 2u);
  model[2]->as<torch::nn::Linear>()->bias.set_requires_grad(false);
  EXPECT_EQ(averaged_slots(*model).size(), 5u + 2u);
  model[2]->as<torch::nn::Linear>()->bias.set_requires_grad(true);

  const double decay = 0.9;
  WeightAverage average(*model, decay, /*start_step=*/3);
  torch::Tensor w = model[0]->as<torch::nn::Linear>()->weight;
  const torch::Tensor target = torch::full_like(w, 2.0);
  {
    torch::NoGradGuard no_grad;
    w.copy_(target);
  }
  // Before start_step the average is a copy; from it, a = d a + (1 - d) w each step.
  average.update(1);
  average.update(2);
  EXPECT_TRUE(torch::equal(average.tensors()[0], target));
  {
    torch::NoGradGuard no_grad;
    w.fill_(5.0);
  }
  for (int64_t step = 3; step <= 12; ++step) average.update(step);
  const double expected = 5.0 + (2.0 - 5.0) * std::pow(decay, 10);
  EXPECT_TRUE(torch::allclose(average.tensors()[0], torch::full_like(w, expected), 1e-6, 1e-6));
  // Swapping puts the average into the model and the live weights aside; twice restores both.
  average.swap();
  EXPECT_TRUE(torch::allclose(w, torch::full_like(w, expected), 1e-6, 1e-6));
  EXPECT_TRUE(torch::equal(average.tensors()[0], torch::full_like(w, 5.0)));
  {
    const AveragedWeightsScope scope(&average);  // swaps back for the scope
    EXPECT_TRUE(torch::equal(w, torch::full_like(w, 5.0)));
  }
  average.swap();
  EXPECT_TRUE(torch::equal(w, torch::full_like(w, 5.0)));
}

TEST(WeightAverage, IsSavedInTheCheckpointAndRestoredExactly) {
  testing::TempDir dir;
  auto model = small_model();
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(0.1));
  WeightAverage average(*model, 0.5, 0);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(1.0);
  }
  average.update(1);
  TrainingState state;
  state.step = 1;
  state.early_stopping_best = 0.25;
  state.early_stopping_best_step = 1;
  state.early_stopping_waited = 0;
  CheckpointExtras extras;
  extras.tensor_lists["ema"] = average.tensors();
  const std::string saved = save_training_checkpoint(dir.path() + "/checkpoints", state, *model, optimizer, "", "", 2, extras);
  const std::vector<torch::Tensor> loaded = load_checkpoint_tensors(saved, "ema");
  ASSERT_EQ(loaded.size(), average.tensors().size());
  for (size_t i = 0; i < loaded.size(); ++i) EXPECT_TRUE(torch::equal(loaded[i], average.tensors()[i]));
  EXPECT_TRUE(load_checkpoint_tensors(saved, "early_stopping_best").empty());
  const TrainingState read = read_training_state(saved);
  EXPECT_EQ(read.early_stopping_best, 0.25);
  EXPECT_EQ(read.early_stopping_best_step, 1);

  WeightAverage resumed(*small_model(), 0.5, 0);
  resumed.restore(loaded, "ema.pt");
  EXPECT_TRUE(torch::equal(resumed.tensors()[0], average.tensors()[0]));
  // A model of another shape refuses it, naming the file.
  auto other = torch::nn::Sequential(torch::nn::Linear(3, 5));
  WeightAverage wrong(*other, 0.5, 0);
  EXPECT_THAT(testing::user_error([&] { wrong.restore(loaded, "x/ema.pt"); }),
              ::testing::HasSubstr("x/ema.pt: holds 8 averaged tensors, the model averages 2"));
  // use_checkpoint_average puts it into a model holding the checkpoint's weights.
  auto fresh = small_model();
  use_checkpoint_average(saved, *fresh);
  EXPECT_TRUE(torch::equal(fresh->parameters()[0], average.tensors()[0]));
}

}  // namespace
}  // namespace stratum
