#include "models/reference_weights.h"

#include <torch/torch.h>

#include <map>
#include <set>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/text.h"
#include "models/adapter_module.h"

namespace stratum {
namespace {

// "a, b, c (and 7 more)": differences stay on one line however many there are.
std::string listing(const std::vector<std::string>& items) {
  std::string out;
  const size_t shown = std::min<size_t>(items.size(), 6);
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > shown) out += " (and " + std::to_string(items.size() - shown) + " more)";
  return out;
}

// Parameters then buffers, by their own names. Whatever an adapter holds (LoRA matrices,
// prefixes) is not part of the reference layout: `stratum export` merges adapters into their
// base first.
std::vector<std::pair<std::string, torch::Tensor>> own_tensors(const models::Model& model) {
  std::vector<std::string> adapter_prefixes;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    if (dynamic_cast<const models::AdapterModule*>(item.value().get())) adapter_prefixes.push_back(item.key() + ".");
  }
  const auto in_adapter = [&](const std::string& name) {
    for (const std::string& prefix : adapter_prefixes) {
      if (name.rfind(prefix, 0) == 0) return true;
    }
    return false;
  };
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : model.named_parameters()) {
    if (!in_adapter(p.key())) out.emplace_back(p.key(), p.value());
  }
  for (const auto& b : model.named_buffers()) {
    if (!in_adapter(b.key())) out.emplace_back(b.key(), b.value());
  }
  return out;
}

}  // namespace

SafetensorsFile reference_weights(const models::Model& model) {
  SafetensorsFile file;
  file.metadata["format"] = "pt";  // what Hugging Face's loaders expect
  file.metadata["layout"] = model.reference_layout().empty() ? "stratum" : model.reference_layout();
  for (const auto& [own, tensor] : own_tensors(model)) {
    const auto reference = model.reference_name(own);
    file.tensors.emplace_back(reference.name, reference.transposed ? tensor.detach().t() : tensor.detach());
  }
  return file;
}

void load_reference_weights(models::Model& model, const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  std::map<std::string, torch::Tensor> stored(file.tensors.begin(), file.tensors.end());
  std::set<std::string> used;
  std::vector<std::string> missing, mismatched, unexpected;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  for (const auto& [own, tensor] : own_tensors(model)) {
    const auto reference = model.reference_name(own);
    const auto found = stored.find(reference.name);
    if (found == stored.end()) {
      missing.push_back(printable(reference.name, 80));
      continue;
    }
    used.insert(reference.name);
    // A transposed (Conv1D-style) weight must be a matrix before it can be turned.
    const torch::Tensor& stored_tensor = found->second;
    const bool fits = reference.transposed ? stored_tensor.dim() == 2 && tensor.dim() == 2 &&
                                                 stored_tensor.t().sizes() == tensor.sizes()
                                           : stored_tensor.sizes() == tensor.sizes();
    if (!fits) {
      mismatched.push_back(printable(reference.name, 80) + " file " + shape_text(stored_tensor.sizes()) + " model " +
                           shape_text(reference.transposed && tensor.dim() == 2 ? tensor.t().sizes() : tensor.sizes()));
      continue;
    }
    const torch::Tensor source = reference.transposed ? stored_tensor.t() : stored_tensor;
    copies.emplace_back(tensor, source);
  }
  for (const auto& [name, tensor] : file.tensors) {
    if (!used.count(name) && !model.ignored_in_reference(name)) unexpected.push_back(printable(name, 80));
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string message = path + ": the weights do not fit the configured model (layout " +
                          (model.reference_layout().empty() ? std::string("stratum") : model.reference_layout()) + ")";
    if (!mismatched.empty()) message += "; shapes differ: " + listing(mismatched);
    if (!missing.empty()) message += "; missing: " + listing(missing);
    if (!unexpected.empty()) message += "; unexpected: " + listing(unexpected);
    throw UserError(message);
  }
  torch::NoGradGuard no_grad;
  for (auto& [destination, source] : copies) destination.copy_(source.to(destination.dtype()));
}

}  // namespace stratum
