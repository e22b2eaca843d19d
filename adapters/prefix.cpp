#include "adapters/prefix.h"

#include <torch/torch.h>

#include "core/error.h"
#include "core/safetensors.h"

namespace stratum::adapters {

PrefixEncoderImpl::PrefixEncoderImpl(int64_t layers, int64_t width, const PrefixOptions& options)
    : layers_(layers), width_(width) {
  STRATUM_CHECK(options.length >= 1 && options.hidden >= 1, "invalid prefix options");
  // PEFT's PrefixEncoder: an nn.Embedding (N(0, 1)) and, with the projection, two nn.Linear
  // with PyTorch's default initialisation around a tanh.
  if (options.reparameterize) {
    embedding = register_parameter("embedding", torch::randn({options.length, width}));
    down = register_module("down", torch::nn::Linear(width, options.hidden));
    up = register_module("up", torch::nn::Linear(options.hidden, layers * 2 * width));
  } else {
    table = register_parameter("table", torch::randn({options.length, layers * 2 * width}));
  }
}

torch::Tensor PrefixEncoderImpl::layer_prefix(int64_t layer) {
  const int64_t begin = layer * 2 * width_;
  if (folded()) return table.narrow(1, begin, 2 * width_);
  // Only this layer's rows of the last projection: the same numbers as slicing all().
  const torch::Tensor hidden = torch::tanh(down->forward(embedding));
  return torch::nn::functional::linear(hidden, up->weight.narrow(0, begin, 2 * width_), up->bias.narrow(0, begin, 2 * width_));
}

torch::Tensor PrefixEncoderImpl::all() { return folded() ? table : up->forward(torch::tanh(down->forward(embedding))); }

void PrefixEncoderImpl::fold() {
  if (folded()) return;
  torch::Tensor computed;
  {
    torch::NoGradGuard no_grad;
    computed = all().detach().clone();
  }
  unregister_module("down");
  unregister_module("up");
  parameters_.erase("embedding");  // a subclass may: Module keeps its parameters in a protected dict
  embedding = torch::Tensor();
  down = nullptr, up = nullptr;
  table = register_parameter("table", computed);
}

namespace {

// One attention layer's view of the shared encoder.
class PrefixSlice : public models::AttentionPrefix {
 public:
  PrefixSlice(PrefixEncoder encoder, int64_t layer, int64_t heads)
      : encoder_(std::move(encoder)), layer_(layer), heads_(heads) {}

  std::pair<torch::Tensor, torch::Tensor> keys_values(int64_t batch) override {
    const torch::Tensor prefix = encoder_->layer_prefix(layer_);  // (P, 2W)
    const int64_t length = prefix.size(0), dim = encoder_->width() / heads_;
    // (P, 2, H, D) -> (2, H, P, D), then the batch dimension without copying.
    const torch::Tensor kv = prefix.view({length, 2, heads_, dim}).permute({1, 2, 0, 3});
    return {kv[0].unsqueeze(0).expand({batch, heads_, length, dim}), kv[1].unsqueeze(0).expand({batch, heads_, length, dim})};
  }

  std::vector<torch::Tensor> shared_parameters() const override { return encoder_->parameters(); }

 private:
  PrefixEncoder encoder_;  // owned by the model ("prefix_encoder"), not registered here: once is enough
  int64_t layer_, heads_;
};

std::vector<models::MultiHeadAttention*> attention_layers(torch::nn::Module& model) {
  std::vector<models::MultiHeadAttention*> out;
  for (const auto& module : model.modules(/*include_self=*/false)) {
    if (auto* attention = dynamic_cast<models::MultiHeadAttention*>(module.get())) out.push_back(attention);
  }
  return out;
}

}  // namespace

PrefixEncoder apply_prefix(torch::nn::Module& model, const PrefixOptions& options, const std::string& key) {
  const std::vector<models::MultiHeadAttention*> layers = attention_layers(model);
  if (layers.empty()) throw UserError(key + ": the model has no attention layers to prefix");
  STRATUM_USER_CHECK(!find_prefix(model), key + ": the model has prefixes already");
  const int64_t width = layers.front()->qkv->options.in_features();
  PrefixEncoder encoder(static_cast<int64_t>(layers.size()), width, options);
  encoder->to(layers.front()->qkv->device());
  model.register_module("prefix_encoder", encoder.ptr());
  for (size_t i = 0; i < layers.size(); ++i) {
    layers[i]->set_prefix(std::make_shared<PrefixSlice>(encoder, static_cast<int64_t>(i), layers[i]->heads()));
  }
  models::freeze_base(model);
  return encoder;
}

PrefixEncoder find_prefix(const torch::nn::Module& model) {
  for (const auto& item : model.named_children()) {
    if (auto encoder = std::dynamic_pointer_cast<PrefixEncoderImpl>(item.value())) return PrefixEncoder(encoder);
  }
  return nullptr;
}

void save_prefix(const torch::nn::Module& model, const std::string& path) {
  PrefixEncoder encoder = find_prefix(model);
  if (!encoder) throw UserError(path + ": the model has no prefixes to save");
  torch::NoGradGuard no_grad;
  SafetensorsFile file;
  file.tensors.emplace_back("prefix", encoder->all().detach().cpu().contiguous());
  file.metadata["format"] = "stratum-prefix";
  file.metadata["layers"] = std::to_string(encoder->layers());
  file.metadata["width"] = std::to_string(encoder->width());
  write_safetensors(path, file);
}

void load_prefix(torch::nn::Module& model, const std::string& path) {
  PrefixEncoder encoder = find_prefix(model);
  if (!encoder) throw UserError(path + ": the model has no prefixes to load into (adapters.prefix.enabled?)");
  const SafetensorsFile file = read_safetensors(path);
  if (file.tensors.size() != 1 || file.tensors.front().first != "prefix") {
    throw UserError(path + ": expected one tensor \"prefix\" (a file written by save_prefix)");
  }
  const torch::Tensor& saved = file.tensors.front().second;
  encoder->fold();
  if (saved.sizes() != encoder->table.sizes()) {
    throw UserError(path + ": \"prefix\" has shape " + shape_text(saved.sizes()) + ", the model's prefixes " +
                    shape_text(encoder->table.sizes()));
  }
  torch::NoGradGuard no_grad;
  encoder->table.copy_(saved);
}

}  // namespace stratum::adapters
