#include "engine/prediction.h"

#include <torch/torch.h>

#include "core/error.h"
#include "engine/plugin_loader.h"
#include "engine/registry.h"

namespace stratum {

CheckpointModel load_checkpoint_model(const std::string& checkpoint, Registry& registry,
                                      const std::vector<std::string>& plugin_flags) {
  CheckpointModel out;
  out.dir = resolve_checkpoint(checkpoint);
  out.state = read_training_state(out.dir);
  if (out.state.data_spec.input_shape.empty()) {
    throw UserError(out.dir + "/state.json: no data_spec (a checkpoint from an older Stratum); re-save it with this version");
  }
  // The checkpoint's own config says which model to rebuild; its weights are what is loaded.
  out.config = load_config(out.dir + "/config.resolved.yaml");
  out.config.model.init_from.clear();
  load_plugins(out.config.plugins, plugin_flags, registry);
  const ModelEntry* entry = registry.models.find(out.config.model.name);
  if (!entry) {
    throw UserError(out.dir + "/config.resolved.yaml: model.name: " + registry.models.unknown_message(out.config.model.name));
  }
  out.model = entry->build(out.config.model, out.state.data_spec);
  apply_model_transforms(registry, *out.model, out.config);  // the checkpoint holds adapter weights too
  load_model_weights(out.dir, *out.model);
  out.model->eval();
  return out;
}

Predictions predict(models::Model& model, const data::TensorDataset& data, int64_t batch_size, bool with_embeddings) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<torch::Tensor> probabilities, embeddings;
  for (int64_t begin = 0; begin < data.size(); begin += batch_size) {
    const data::Batch batch = data.slice(begin, std::min(data.size(), begin + batch_size));
    if (with_embeddings) {
      embeddings.push_back(model.embed(batch).to(torch::kFloat32));
    }
    probabilities.push_back(torch::softmax(model.forward(batch).to(torch::kFloat32), 1));
  }
  model.train(was_training);
  Predictions out;
  out.probabilities = probabilities.empty() ? torch::empty({0, 0}) : torch::cat(probabilities);
  if (with_embeddings) out.embeddings = embeddings.empty() ? torch::empty({0, 0}) : torch::cat(embeddings);
  return out;
}

}  // namespace stratum
