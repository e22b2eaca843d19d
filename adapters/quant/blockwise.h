#pragma once
// Blockwise absmax quantization onto a code book, the scheme of QLoRA and bitsandbytes: a
// tensor is flattened, cut into blocks of `block` values, each block divided by its largest
// magnitude, and every value replaced by the index of the nearest code-book entry.

#include <torch/types.h>

#include <cstdint>

namespace stratum::adapters::quant {

/// The 16 NormalFloat4 values of the QLoRA paper (quantiles of N(0, 1), exact zero, ±1).
torch::Tensor nf4_codebook();
/// Symmetric 4-bit integers k/7 for k = -8..7 (index k + 8); -8/7 is never the nearest to a
/// value in [-1, 1], so codes are the usual round(x · 7) clamped to [-7, 7].
torch::Tensor int4_codebook();
/// bitsandbytes' signed 8-bit dynamic data type (create_dynamic_map): the second-level code
/// book of double quantization.
torch::Tensor dynamic_codebook();

/// Codes (uint8, one per value) and per-block absmax (float32) of a flattened tensor.
struct BlockwiseCodes {
  torch::Tensor codes;
  torch::Tensor absmax;
};

/// Quantizes `values` (any shape; flattened) in blocks of `block` onto sorted `codebook`.
/// Ties between two entries go to the lower one (torch.bucketize), as in bitsandbytes.
BlockwiseCodes quantize_blockwise(const torch::Tensor& values, const torch::Tensor& codebook, int64_t block);

/// The inverse: codebook[codes] · absmax of each value's block, float32, `count` values.
torch::Tensor dequantize_blockwise(const torch::Tensor& codes, const torch::Tensor& absmax,
                                   const torch::Tensor& codebook, int64_t block, int64_t count);

/// Two 4-bit codes per byte, the first in the high nibble (bitsandbytes' layout); an odd
/// count is padded with `pad`.
torch::Tensor pack_nibbles(const torch::Tensor& codes, int64_t pad);
torch::Tensor unpack_nibbles(const torch::Tensor& packed, int64_t count);

}  // namespace stratum::adapters::quant
