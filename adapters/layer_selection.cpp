#include "adapters/layer_selection.h"

#include <fnmatch.h>
#include <torch/torch.h>

#include "core/error.h"
#include "core/text.h"

namespace stratum::adapters {

bool matches_module_pattern(const std::string& name, const std::string& pattern) {
  const std::vector<std::string> n = split(name, '.'), p = split(pattern, '.');
  if (p.empty() || p.size() > n.size()) return false;
  const size_t offset = n.size() - p.size();
  for (size_t i = 0; i < p.size(); ++i) {
    if (fnmatch(p[i].c_str(), n[offset + i].c_str(), 0) != 0) return false;
  }
  return true;
}

std::vector<NamedLayer> adaptable_layers(torch::nn::Module& model) {
  std::vector<NamedLayer> out;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    if (auto* layer = dynamic_cast<models::AdaptableLinearImpl*>(item.value().get())) out.emplace_back(item.key(), layer);
  }
  return out;
}

std::vector<NamedLayer> select_layers(torch::nn::Module& model, const std::vector<std::string>& targets,
                                      const std::string& key) {
  const std::vector<NamedLayer> layers = adaptable_layers(model);
  std::vector<std::string> names;
  for (const auto& [name, layer] : layers) names.push_back(name);
  for (const std::string& target : targets) {
    bool any = false;
    for (const auto& [name, layer] : layers) any |= matches_module_pattern(name, target);
    if (!any) {
      throw UserError(key + ": \"" + target + "\" matches no linear layer of this model (layers: " +
                      (names.size() > 8 ? join({names.begin(), names.begin() + 8}, ", ") + ", ..." : join(names, ", ")) +
                      ")");
    }
  }
  std::vector<NamedLayer> out;
  for (const auto& [name, layer] : layers) {
    for (const std::string& target : targets) {
      if (matches_module_pattern(name, target)) {
        out.emplace_back(name, layer);
        break;
      }
    }
  }
  return out;
}

}  // namespace stratum::adapters
