#pragma once
// 4-bit frozen weights (QLoRA): the flattened weight in blocks, each block's absmax kept and
// every value replaced by a 4-bit index into a code book, two indices per byte. `nf4` uses
// the NormalFloat4 code book (blocks of 64), `int4` symmetric integers (blocks of 128).
// Double quantization stores the block absmax values themselves in 8 bits: their mean is
// subtracted and the rest quantized in blocks of 256 onto bitsandbytes' dynamic code book.

#include "models/adaptable_linear.h"

namespace stratum::adapters::quant {

/// An (out, in) weight in a 4-bit blockwise format.
class BlockwiseWeight : public models::PackedWeight {
 public:
  /// `format` is "nf4" or "int4".
  BlockwiseWeight(const torch::Tensor& weight, const std::string& format, int64_t block, bool double_quant);

  torch::Tensor unpack(torch::ScalarType dtype) const override;
  std::string format() const override { return format_; }
  int64_t block() const { return block_; }
  bool double_quant() const { return double_quant_; }

  /// The per-block absmax values, float32 (decoded when double-quantized).
  torch::Tensor block_absmax() const;

  torch::Tensor codes;  ///< ceil(n / 2) uint8, two codes per byte
  torch::Tensor absmax;  ///< without double quantization: (blocks) float32
  torch::Tensor absmax_codes, absmax_scales, absmax_offset;  ///< with it: uint8, float32 per 256, float32 (1)

  static constexpr int64_t kScaleBlock = 256;

 private:
  const torch::Tensor& byte_values(const torch::Tensor& like) const;

  std::string format_;
  int64_t block_;
  bool double_quant_;
  torch::Tensor book_;
  mutable torch::Tensor scale_book_, byte_values_;  // cached on the weights' device
};

}  // namespace stratum::adapters::quant
