#pragma once
// 8-bit frozen weights: per-output-channel absmax, symmetric (W ≈ codes · scale[row],
// scale = absmax / 127), one byte per weight plus one float32 scale per row. The forward pass
// decodes and multiplies: LibTorch 2.11's fused CPU kernel (_weight_int8pack_mm) was measured
// 20x slower than that at 512 rows of a 768 -> 3072 layer and only on par at one row.

#include "models/adaptable_linear.h"

namespace stratum::adapters::quant {

/// An (out, in) weight as int8 codes with per-row scales.
class Int8Weight : public models::PackedWeight {
 public:
  explicit Int8Weight(const torch::Tensor& weight);

  torch::Tensor unpack(torch::ScalarType dtype) const override;
  std::string format() const override { return "int8"; }

  torch::Tensor codes;   ///< (out, in) int8
  torch::Tensor scales;  ///< (out) float32
};

}  // namespace stratum::adapters::quant
