#include "models/adapter_module.h"

#include <torch/torch.h>

#include <set>

namespace stratum::models {

void freeze_base(torch::nn::Module& model) {
  std::set<const void*> adapter_parameters;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (!dynamic_cast<AdapterModule*>(module.get())) continue;
    for (const auto& p : module->parameters()) adapter_parameters.insert(p.unsafeGetTensorImpl());
  }
  for (auto& p : model.parameters()) {
    if (!adapter_parameters.count(p.unsafeGetTensorImpl())) p.set_requires_grad(false);
  }
}

}  // namespace stratum::models
