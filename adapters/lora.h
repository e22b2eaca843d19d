#pragma once
// LoRA (Hu et al., 2021): a frozen linear layer W plus a trainable low-rank update,
// y = W x + b + (alpha / r) B A dropout(x), with A (r x in) Kaiming-uniform and B (out x r) zero,
// so training starts from the base model exactly. Applied after the model is built to the
// layers whose names match the configured patterns; merge folds B A into W for inference.

#include <cstdint>
#include <string>
#include <vector>

#include "adapters/adapter_options.h"

#include "adapters/layer_selection.h"

namespace stratum::adapters {

/// The low-rank update of one linear layer.
class LoraAdapterImpl : public models::LinearAdapter {
 public:
  LoraAdapterImpl(int64_t in_features, int64_t out_features, const LoraOptions& options);

  torch::Tensor adapt(const torch::Tensor& x, const torch::Tensor& base, const models::LinearSplit* split) override;

  /// W += (alpha / r) B A, after which the update is not applied again; unmerge undoes it.
  void merge(torch::nn::LinearImpl& layer);
  void unmerge(torch::nn::LinearImpl& layer);
  bool merged() const { return merged_; }

  torch::Tensor A;  ///< (r, in)
  torch::Tensor B;  ///< (out, r)

 private:
  double scaling_;
  double dropout_;
  bool merged_ = false;
};
TORCH_MODULE(LoraAdapter);

/// Wraps every adaptable linear layer of `model` that a target matches, and freezes every
/// parameter except the adapters'. Returns the wrapped layers' names. A target that matches
/// no layer is a UserError naming it and listing the layers there are.
std::vector<std::string> apply_lora(torch::nn::Module& model, const LoraOptions& options,
                                    const std::string& key = "adapters.lora.targets");

/// Folds (or unfolds) every LoRA update of `model` into its base weights.
void merge_lora(torch::nn::Module& model);
void unmerge_lora(torch::nn::Module& model);

/// The adapters' own parameters by name (`....qkv.lora.A`): what an adapter-only file holds.
std::vector<std::pair<std::string, torch::Tensor>> lora_parameters(const torch::nn::Module& model);

/// Writes / reads only the adapter parameters as safetensors (a small file next to a large
/// frozen base). Loading checks every name and shape and fails closed naming the file.
void save_lora(const torch::nn::Module& model, const std::string& path);
void load_lora(torch::nn::Module& model, const std::string& path);

}  // namespace stratum::adapters
