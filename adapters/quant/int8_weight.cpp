#include "adapters/quant/int8_weight.h"

#include <torch/torch.h>


namespace stratum::adapters::quant {

Int8Weight::Int8Weight(const torch::Tensor& weight) {
  torch::NoGradGuard no_grad;
  out_features = weight.size(0), in_features = weight.size(1);
  const torch::Tensor w = weight.to(torch::kFloat32);
  const torch::Tensor absmax = std::get<0>(w.abs().max(1));
  const torch::Tensor scale = absmax / 127.0;
  // An all-zero row keeps scale 0 and codes 0 (divide by 1 instead of 0).
  const torch::Tensor divisor = torch::where(scale > 0, scale, torch::ones_like(scale));
  codes = register_buffer("codes", torch::round(w / divisor.unsqueeze(1)).clamp(-127, 127).to(torch::kInt8));
  scales = register_buffer("scales", scale);
}

torch::Tensor Int8Weight::unpack(torch::ScalarType dtype) const {
  return (codes.to(torch::kFloat32) * scales.unsqueeze(1)).to(dtype);
}

}  // namespace stratum::adapters::quant
