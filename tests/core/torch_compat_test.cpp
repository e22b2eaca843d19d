#include "core/torch_compat.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stratum {
namespace {

TEST(Autocast, CpuBfloat16ForwardKeepsFloat32WeightsAndRestoresState) {
  torch::nn::Linear linear(8, 4);
  const torch::Tensor x = torch::randn({2, 8});
  torch::Tensor y;
  {
    const compat::AutocastScope autocast(/*cuda=*/false, /*half=*/false);
    y = linear->forward(x);
  }
  EXPECT_EQ(y.scalar_type(), torch::kBFloat16);
  EXPECT_EQ(linear->weight.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(y.to(torch::kFloat32), linear->forward(x), 0.05, 0.05));
  EXPECT_EQ(linear->forward(x).scalar_type(), torch::kFloat32);  // autocast is off again
  y.to(torch::kFloat32).sum().backward();
  EXPECT_EQ(linear->weight.grad().scalar_type(), torch::kFloat32);
}

}  // namespace
}  // namespace stratum
