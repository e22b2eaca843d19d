#pragma once
// A trained classifier applied to data after training: the checkpoint's model rebuilt from its
// own config and data shape, and its class probabilities and embeddings over a dataset (for
// export, active learning and the relabeling queue).

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"
#include "engine/training_checkpoint.h"
#include "data/tensor_dataset.h"
#include "models/model.h"

namespace stratum {

class Registry;

/// A checkpoint's model with its weights, and what it was trained with.
struct CheckpointModel {
  std::string dir;       ///< the resolved checkpoint directory
  RunConfig config;      ///< its config.resolved.yaml
  TrainingState state;   ///< its state.json (data shape, step)
  models::ModelPtr model;
};

/// Resolves `checkpoint` (a checkpoint, or a run directory's latest), loads the config's
/// plugins and then `plugin_flags` (each path once) into `registry`, builds the model for the
/// saved data shape and loads its weights. Problems are UserErrors naming the file.
CheckpointModel load_checkpoint_model(const std::string& checkpoint, Registry& registry,
                                      const std::vector<std::string>& plugin_flags = {});

/// Softmax probabilities (N, classes) and, when `with_embeddings`, the model's embeddings
/// (N, D) over `data`, in evaluation mode without gradients, `batch_size` at a time.
struct Predictions {
  at::Tensor probabilities;
  at::Tensor embeddings;
};
Predictions predict(models::Model& model, const data::TensorDataset& data, int64_t batch_size, bool with_embeddings);

}  // namespace stratum
