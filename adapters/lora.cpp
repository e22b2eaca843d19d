#include "adapters/lora.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "core/error.h"
#include "core/safetensors.h"
#include "core/text.h"

namespace stratum::adapters {

LoraAdapterImpl::LoraAdapterImpl(int64_t in_features, int64_t out_features, const LoraOptions& options)
    : scaling_(options.alpha / static_cast<double>(options.rank)), dropout_(options.dropout) {
  STRATUM_CHECK(options.rank >= 1 && options.alpha > 0 && options.dropout >= 0 && options.dropout < 1,
                "invalid LoRA options");
  A = register_parameter("A", torch::empty({options.rank, in_features}));
  B = register_parameter("B", torch::zeros({out_features, options.rank}));
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(A, std::sqrt(5.0));  // as PEFT: nn.init.kaiming_uniform_(A, a=sqrt(5))
}

torch::Tensor LoraAdapterImpl::adapt(const torch::Tensor& x, const torch::Tensor& base,
                                     const models::LinearSplit* split) {
  if (merged_) return base;
  const auto drop = [&] { return torch::dropout(x, dropout_, is_training()); };
  // In a tensor-parallel layer A x needs the group (LinearSplit::join). A row-split layer's
  // ranks hold different slices of x, so their dropout masks must differ too.
  const bool rank_local = split && split->kind == models::LinearSplit::Kind::row && dropout_ > 0 && is_training();
  const torch::Tensor dropped = rank_local ? split->ops->with_rank_random(x.device(), split->stream, drop) : drop();
  torch::Tensor hidden = torch::matmul(dropped, A.t());
  if (split) hidden = split->join(hidden);
  return base + torch::matmul(hidden, B.t()) * scaling_;
}

void LoraAdapterImpl::merge(torch::nn::LinearImpl& layer) {
  if (merged_) return;
  if (!layer.weight.defined()) {
    throw UserError("LoRA cannot be merged into a quantized base weight; dequantize the model first");
  }
  torch::NoGradGuard no_grad;
  layer.weight.add_(torch::matmul(B, A), scaling_);
  merged_ = true;
}

void LoraAdapterImpl::unmerge(torch::nn::LinearImpl& layer) {
  if (!merged_) return;
  torch::NoGradGuard no_grad;
  layer.weight.sub_(torch::matmul(B, A), scaling_);
  merged_ = false;
}

namespace {

template <class F>
void for_each_lora(torch::nn::Module& model, F f) {
  for (const auto& [name, layer] : adaptable_layers(model)) {
    if (auto* lora = dynamic_cast<LoraAdapterImpl*>(layer->adapter().get())) f(*layer, *lora);
  }
}

}  // namespace

std::vector<std::string> apply_lora(torch::nn::Module& model, const LoraOptions& options, const std::string& key) {
  std::vector<std::string> wrapped;
  for (const auto& [name, layer] : select_layers(model, options.targets, key)) {
    auto adapter = std::make_shared<LoraAdapterImpl>(layer->options.in_features(), layer->options.out_features(), options);
    adapter->to(layer->device());
    layer->set_adapter("lora", adapter);
    wrapped.push_back(name);
  }
  models::freeze_base(model);
  return wrapped;
}

void merge_lora(torch::nn::Module& model) {
  for_each_lora(model, [](models::AdaptableLinearImpl& layer, LoraAdapterImpl& lora) { lora.merge(layer); });
}

void unmerge_lora(torch::nn::Module& model) {
  for_each_lora(model, [](models::AdaptableLinearImpl& layer, LoraAdapterImpl& lora) { lora.unmerge(layer); });
}

std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : model.named_parameters()) {
    if (item.key().find(".lora.") != std::string::npos) out.emplace_back(item.key(), item.value());
  }
  return out;
}

void save_lora(const torch::nn::Module& model, const std::string& path) {
  SafetensorsFile file;
  for (const auto& [name, tensor] : lora_parameters(model)) file.tensors.emplace_back(name, tensor.detach().cpu());
  if (file.tensors.empty()) throw UserError(path + ": the model has no LoRA adapters to save");
  file.metadata["format"] = "stratum-lora";
  write_safetensors(path, file);
}

void load_lora(torch::nn::Module& model, const std::string& path) {
  const SafetensorsFile file = read_safetensors(path);
  std::map<std::string, torch::Tensor> saved(file.tensors.begin(), file.tensors.end());
  const auto params = lora_parameters(model);
  if (params.empty()) throw UserError(path + ": the model has no LoRA adapters to load into (adapters.lora.enabled?)");
  torch::NoGradGuard no_grad;
  for (const auto& [name, param] : params) {
    const auto it = saved.find(name);
    if (it == saved.end()) throw UserError(path + ": no tensor \"" + name + "\" (saved for other targets or another model?)");
    if (it->second.sizes() != param.sizes()) {
      throw UserError(path + ": \"" + name + "\" has shape " + shape_text(it->second.sizes()) + ", the adapter " +
                      shape_text(param.sizes()));
    }
    param.copy_(it->second);
    saved.erase(it);
  }
  if (!saved.empty()) throw UserError(path + ": unexpected tensor \"" + printable(saved.begin()->first, 80) + "\"");
}

}  // namespace stratum::adapters
