#pragma once
// What the transforms applied to a built model are configured with: LoRA, prefix-tuning and
// frozen-weight quantization (the `adapters:` and `quantization:` sections).
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"

namespace stratum::adapters {

/// Weight format of quantized frozen layers.
enum class QuantMode { none, int8, nf4, int4 };
inline const ChoiceTable<QuantMode>& choices(QuantMode) {
  static const ChoiceTable<QuantMode> table{{QuantMode::none, "none"}, {QuantMode::int8, "int8"}, {QuantMode::nf4, "nf4"}, {QuantMode::int4, "int4"}};
  return table;
}

/// Low-rank adapters on linear layers chosen by module-name pattern.
struct LoraOptions {
  int64_t rank = 8;
  double alpha = 16.0;
  double dropout = 0.05;
  std::vector<std::string> targets = {"attn.qkv", "attn.proj"};
  bool enabled = false;

  template <class V>
  static void describe(V& v) {
    v.field("enabled", &LoraOptions::enabled, "wrap the target layers with LoRA");
    v.field("rank", &LoraOptions::rank, "rank r of the update B*A", in_range(1, 1 << 16));
    v.field("alpha", &LoraOptions::alpha, "scale alpha; the update is multiplied by alpha/r", positive());
    v.field("dropout", &LoraOptions::dropout, "dropout on the LoRA path", in_range(0.0, 0.99));
    v.field("targets", &LoraOptions::targets, "module-name patterns of the layers to wrap");
  }
};

/// Learned per-layer key/value prefixes.
struct PrefixOptions {
  int64_t length = 16;
  bool reparameterize = true;
  int64_t hidden = 512;
  bool enabled = false;

  template <class V>
  static void describe(V& v) {
    v.field("enabled", &PrefixOptions::enabled, "add learned key/value prefixes to every attention layer");
    v.field("length", &PrefixOptions::length, "prefix length in positions", in_range(1, 1 << 16));
    v.field("reparameterize", &PrefixOptions::reparameterize,
            "train the prefixes through an MLP (Li & Liang 2021), folded into plain prefixes when saved");
    v.field("hidden", &PrefixOptions::hidden, "width of the reparameterization MLP", in_range(1, 1 << 20));
  }
};

/// Parameter-efficient adapters applied after the model is built.
struct AdaptersOptions {
  LoraOptions lora;
  PrefixOptions prefix;

  template <class V>
  static void describe(V& v) {
    v.section("lora", &AdaptersOptions::lora, "LoRA adapters");
    v.section("prefix", &AdaptersOptions::prefix, "prefix-tuning");
  }
};

/// Quantization of the frozen base weights.
struct QuantizationOptions {
  QuantMode mode = QuantMode::none;
  int64_t block_size = 0;
  bool double_quant = true;
  std::vector<std::string> targets = {"attn.*", "mlp.*"};

  template <class V>
  static void describe(V& v) {
    v.field("mode", &QuantizationOptions::mode,
            "weight format of the frozen target layers: int8 (per-row absmax), nf4 or int4 (blockwise 4-bit)");
    v.field("double_quant", &QuantizationOptions::double_quant,
            "nf4/int4: quantize the block absmax values too, 8-bit in blocks of 256 (QLoRA)");
    v.field("block_size", &QuantizationOptions::block_size,
            "nf4/int4: values per absmax block (0: 64 for nf4, 128 for int4)", in_range(0, 1 << 20));
    v.field("targets", &QuantizationOptions::targets, "module-name patterns of the linear layers to quantize");
  }
};

}  // namespace stratum::adapters
