#include "models/model_facts.h"

#include <torch/torch.h>

#include <cstdio>

#include "core/text.h"
#include "models/adaptable_linear.h"
#include "models/model.h"

namespace stratum::models {

ModelFacts model_facts(const torch::nn::Module& model) {
  ModelFacts facts;
  facts.parameters = models::count_parameters(model);
  facts.trainable_parameters = models::count_parameters(model, true);
  const auto add = [&](const torch::Tensor& t) {
    // PyTorch's dtype names (float32, int64, ...), not ATen's (Float, Long, ...).
    static const std::map<std::string, std::string> names = {
        {"Float", "float32"}, {"Double", "float64"}, {"Half", "float16"}, {"BFloat16", "bfloat16"},
        {"Char", "int8"},     {"Byte", "uint8"},     {"Short", "int16"},  {"Int", "int32"},
        {"Long", "int64"},    {"Bool", "bool"}};
    const std::string aten = c10::toString(t.scalar_type());
    const auto it = names.find(aten);
    const std::string dtype = it == names.end() ? aten : it->second;
    facts.weight_bytes[dtype] += t.numel() * static_cast<int64_t>(t.element_size());
  };
  for (const auto& p : model.parameters()) add(p);
  for (const auto& b : model.buffers()) add(b);
  // A packed weight is a frozen parameter held in buffers: it counts as parameters too.
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (const auto* packed = dynamic_cast<const models::PackedWeight*>(module.get())) {
      ModelFacts::Packed& entry = facts.packed[packed->format()];
      entry.weights += packed->numel();
      entry.bytes += packed->bytes();
      facts.parameters += packed->numel();
    }
  }
  return facts;
}

std::string describe_model_facts(const ModelFacts& facts) {
  const double share = facts.parameters > 0 ? 100.0 * static_cast<double>(facts.trainable_parameters) /
                                                  static_cast<double>(facts.parameters)
                                            : 0.0;
  char fraction[32];
  std::snprintf(fraction, sizeof fraction, "%.3g%%", share);
  std::string out = std::to_string(facts.parameters) + " parameters (" + std::to_string(facts.trainable_parameters) +
                    " trainable, " + fraction + "); weights:";
  for (const auto& [dtype, bytes] : facts.weight_bytes) out += " " + dtype + " " + format_bytes(static_cast<double>(bytes));
  for (const auto& [format, packed] : facts.packed) {
    char ratio[32];
    std::snprintf(ratio, sizeof ratio, "%.4f", static_cast<double>(packed.bytes) / static_cast<double>(packed.weights));
    out += "; " + format + ": " + std::to_string(packed.weights) + " weights in " +
           format_bytes(static_cast<double>(packed.bytes)) + " (" + ratio + " bytes per weight)";
  }
  return out;
}

}  // namespace stratum::models
