#include "adapters/quant/blockwise.h"

#include <torch/torch.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace stratum::adapters::quant {

torch::Tensor nf4_codebook() {
  static const std::vector<float> values = {
      -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f, -0.28444138169288635f,
      -0.18477343022823334f, -0.09105003625154495f, 0.0f, 0.07958029955625534f, 0.16093020141124725f,
      0.24611230194568634f, 0.33791524171829224f, 0.44070982933044434f, 0.5626170039176941f,
      0.7229568362236023f, 1.0f};
  return torch::tensor(values, torch::kFloat32);
}

torch::Tensor int4_codebook() { return torch::arange(-8, 8, torch::kFloat32) / 7.0; }

torch::Tensor dynamic_codebook() {
  // create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8): for exponent i the
  // midpoints of 2^i + 1 evenly spaced fractions in [0.1, 1], scaled by 10^(i - 6), both
  // signs; then 0 and 1. Computed with the same float32 tensor operations as the original.
  std::vector<torch::Tensor> parts;
  for (int64_t i = 0; i < 7; ++i) {
    const torch::Tensor boundaries = torch::linspace(0.1, 1, (int64_t{1} << i) + 1, torch::kFloat32);
    const torch::Tensor means = (boundaries.narrow(0, 0, boundaries.size(0) - 1) + boundaries.narrow(0, 1, boundaries.size(0) - 1)) / 2.0;
    const double scale = std::pow(10.0, static_cast<double>(i - 6));
    parts.push_back(means * scale);
    parts.push_back(means * -scale);
  }
  parts.push_back(torch::tensor({0.0f, 1.0f}));
  return std::get<0>(torch::cat(parts).sort());
}

BlockwiseCodes quantize_blockwise(const torch::Tensor& values, const torch::Tensor& codebook, int64_t block) {
  STRATUM_CHECK(block >= 1, "block size must be positive");
  const torch::Tensor flat = values.reshape({-1}).to(torch::kFloat32);
  const int64_t count = flat.numel(), blocks = (count + block - 1) / block;
  // Zero padding leaves every block's absmax as it is.
  const torch::Tensor padded = torch::constant_pad_nd(flat, {0, blocks * block - count}).view({blocks, block});
  const torch::Tensor absmax = std::get<0>(padded.abs().max(1));
  const torch::Tensor scaled = torch::clamp(padded * (1.0 / absmax.clamp_min(1e-38)).unsqueeze(1), -1, 1).reshape({-1});
  const torch::Tensor book = codebook.to(torch::kFloat32).to(values.device());
  const int64_t entries = book.size(0);
  const torch::Tensor midpoints = (book.narrow(0, 0, entries - 1) + book.narrow(0, 1, entries - 1)) / 2;
  const torch::Tensor codes = torch::bucketize(scaled.narrow(0, 0, count), midpoints, /*out_int32=*/true).to(torch::kUInt8);
  return {codes, absmax};
}

torch::Tensor dequantize_blockwise(const torch::Tensor& codes, const torch::Tensor& absmax,
                                   const torch::Tensor& codebook, int64_t block, int64_t count) {
  const int64_t blocks = absmax.size(0);
  const torch::Tensor book = codebook.to(torch::kFloat32).to(codes.device());
  torch::Tensor values = book.index({codes.narrow(0, 0, count).to(torch::kLong)});
  values = torch::constant_pad_nd(values, {0, blocks * block - count}).view({blocks, block}) * absmax.unsqueeze(1);
  return values.reshape({-1}).narrow(0, 0, count);
}

torch::Tensor pack_nibbles(const torch::Tensor& codes, int64_t pad) {
  torch::Tensor even = codes.reshape({-1});
  if (even.numel() % 2) even = torch::cat({even, torch::full({1}, pad, even.options())});
  const torch::Tensor pairs = even.view({-1, 2});
  return torch::bitwise_or(torch::bitwise_left_shift(pairs.select(1, 0), 4), pairs.select(1, 1)).contiguous();
}

torch::Tensor unpack_nibbles(const torch::Tensor& packed, int64_t count) {
  const torch::Tensor high = torch::bitwise_right_shift(packed, 4), low = torch::bitwise_and(packed, 15);
  return torch::stack({high, low}, 1).reshape({-1}).narrow(0, 0, count);
}

}  // namespace stratum::adapters::quant
