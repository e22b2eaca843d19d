#include "adapters/quant/blockwise_weight.h"

#include <torch/torch.h>

#include "adapters/quant/blockwise.h"
#include "core/error.h"

namespace stratum::adapters::quant {

BlockwiseWeight::BlockwiseWeight(const torch::Tensor& weight, const std::string& format, int64_t block,
                                 bool double_quant)
    : format_(format), block_(block), double_quant_(double_quant) {
  STRATUM_CHECK(format == "nf4" || format == "int4", "unknown 4-bit format " + format);
  torch::NoGradGuard no_grad;
  out_features = weight.size(0), in_features = weight.size(1);
  book_ = format == "nf4" ? nf4_codebook() : int4_codebook();
  const BlockwiseCodes q = quantize_blockwise(weight, book_, block);
  // Padding for an odd count: the code of 0 (nf4 index 7, int4 index 8).
  codes = register_buffer("codes", pack_nibbles(q.codes, format == "nf4" ? 7 : 8));
  if (!double_quant) {
    absmax = register_buffer("absmax", q.absmax);
    return;
  }
  const torch::Tensor offset = q.absmax.mean().reshape({1});
  scale_book_ = dynamic_codebook();
  const BlockwiseCodes second = quantize_blockwise(q.absmax - offset, scale_book_, kScaleBlock);
  absmax_codes = register_buffer("absmax_codes", second.codes);
  absmax_scales = register_buffer("absmax_scales", second.absmax);
  absmax_offset = register_buffer("absmax_offset", offset);
}

const torch::Tensor& BlockwiseWeight::byte_values(const torch::Tensor& like) const {
  // Row b: the code-book values of byte b's high and low nibble, so one lookup per byte
  // decodes two weights.
  if (!byte_values_.defined() || byte_values_.device() != like.device()) {
    const torch::Tensor codes = unpack_nibbles(torch::arange(256, torch::kLong), 512);
    byte_values_ = book_.index({codes}).view({256, 2}).to(like.device());
  }
  return byte_values_;
}

torch::Tensor BlockwiseWeight::block_absmax() const {
  if (!double_quant_) return absmax;
  if (scale_book_.device() != absmax_codes.device()) scale_book_ = scale_book_.to(absmax_codes.device());
  return dequantize_blockwise(absmax_codes, absmax_scales, scale_book_, kScaleBlock, absmax_codes.size(0)) + absmax_offset;
}

torch::Tensor BlockwiseWeight::unpack(torch::ScalarType dtype) const {
  const int64_t count = numel(), blocks = (count + block_ - 1) / block_;
  // The same numbers as dequantize_blockwise(unpack_nibbles(codes), ...), in fewer passes.
  torch::Tensor values = byte_values(codes).index_select(0, codes.to(torch::kLong)).view({-1});
  if (values.numel() != blocks * block_) values = torch::constant_pad_nd(values.narrow(0, 0, count), {0, blocks * block_ - count});
  values = (values.view({blocks, block_}) * block_absmax().unsqueeze(1)).view({-1});
  if (values.numel() != count) values = values.narrow(0, 0, count);
  return values.view({out_features, in_features}).to(dtype);
}

}  // namespace stratum::adapters::quant
