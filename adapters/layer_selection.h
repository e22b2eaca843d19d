#pragma once
// Which linear layers of a built model an adapter or quantization applies to, chosen by
// module-name patterns.

#include <string>
#include <utility>
#include <vector>

#include "models/adaptable_linear.h"

namespace stratum::adapters {

/// One adaptable linear layer and its dotted name ("blocks.0.attn.qkv").
using NamedLayer = std::pair<std::string, models::AdaptableLinearImpl*>;

/// True when dotted module name `name` matches `pattern`: the pattern's segments are matched
/// against the end of the name's, `*` within a segment, so "attn.qkv" matches
/// blocks.0.attn.qkv and "mlp.*" every MLP layer.
bool matches_module_pattern(const std::string& name, const std::string& pattern);

/// Every adaptable linear layer of `model`, in module order.
std::vector<NamedLayer> adaptable_layers(torch::nn::Module& model);

/// The layers some pattern of `targets` matches. A pattern that matches no layer is a
/// UserError starting with `key` that lists the layers there are.
std::vector<NamedLayer> select_layers(torch::nn::Module& model, const std::vector<std::string>& targets,
                                      const std::string& key);

}  // namespace stratum::adapters
