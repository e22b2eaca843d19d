#pragma once
// What a model-transform registration says: when the transform is on and how it changes a
// built model. Transforms see typed options only (TransformOptions), never the whole run config.

#include <cstdint>
#include <functional>
#include <string>

#include "adapters/adapter_options.h"
#include "core/named_registry.h"
#include "models/model.h"

namespace stratum::adapters {

/// Gradient checkpointing's settings (they live under `trainer:` in the YAML).
struct RecomputeOptions {
  bool enabled = false;
  int64_t every = 1;  ///< recompute every N-th transformer block
};

/// Everything a transform may read: its own options, the model's name for messages, and where
/// a key was set so errors can name the file and line.
struct TransformOptions {
  AdaptersOptions adapters;
  QuantizationOptions quantization;
  RecomputeOptions recompute;
  std::string model_name;
  /// "file:line:col: key" for `key` (or just `key` when provenance is unknown).
  std::function<std::string(const std::string& key)> locate = [](const std::string& key) { return key; };
};

/// A transform applied to a built model before training or loading a checkpoint (adapters,
/// quantization, ...). Enabled transforms run in ascending `order`, always the same order.
struct TransformEntry {
  std::string name;
  std::string description;
  int order = 0;
  std::function<bool(const TransformOptions&)> enabled;
  /// Applies the transform; returns a one-line summary for the log.
  std::function<std::string(models::Model&, const TransformOptions&)> apply;
  /// Optional: writes the transform's own small artifact (e.g. adapter weights) into `dir`.
  std::function<void(const models::Model&, const std::string& dir)> save_artifact;
};

/// The transforms a run may apply.
using TransformRegistry = NamedRegistry<TransformEntry>;

}  // namespace stratum::adapters
