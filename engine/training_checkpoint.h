#pragma once
// What a training checkpoint holds and how it is saved and restored: model parameters and
// buffers, optimizer state, the CPU and CUDA random generators, the step and data position,
// the data pipeline's state (reservoirs, held-out records, their random streams), the loss
// scaler, the resolved config and a fingerprint of the data the run trained on (see
// checkpoint_store.h for the crash-safe directory format).

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "core/torch_declarations.h"
#include "core/data_spec.h"

namespace stratum {

/// The counters a resumed run continues from.
struct TrainingState {
  int64_t step = 0;             ///< optimizer steps completed
  int64_t batches = 0;          ///< micro-batches the loader has handed out
  std::string data_fingerprint; ///< sha256 of the data manifest and split sizes
  std::string config_sha256;    ///< sha256 of the resolved config
  data::DataSpec data_spec;     ///< the data shape the model was built for (export rebuilds it from this)
  std::string pipeline_sha256;  ///< sha256 of data_state.bin, the data pipeline's serialized state
  double loss_scale = 1;        ///< fp16 dynamic loss scaling: the factor,
  int64_t loss_scale_clean_steps = 0;  ///< steps since it last changed,
  int64_t skipped_steps = 0;           ///< and steps skipped for overflowing gradients
  int64_t world_size = 1;              ///< data-parallel ranks that trained it
  int64_t global_batch = 0;            ///< examples per optimizer step over all ranks (0: not recorded)
  /// distributed.stream: sharded: every replica's data_state hash, in replica order (empty when
  /// the stream was replicated).
  std::vector<std::string> replica_pipeline_sha256;
  /// trainer.early_stopping: the best value so far (NaN: none yet), its step, and evaluations
  /// since it without improvement.
  double early_stopping_best = std::numeric_limits<double>::quiet_NaN();
  int64_t early_stopping_best_step = 0;
  int64_t early_stopping_waited = 0;
};

/// The optional parts of a checkpoint.
struct CheckpointExtras {
  /// A multi-process run's random generator states, one row per rank (from
  /// generator_state_bytes): rng_ranks.pt.
  const at::Tensor* rank_generators = nullptr;
  /// A sharded stream's pipeline states, every replica's (the first is `pipeline_state`):
  /// data_state.replica-R.bin, their hashes state.json's replica_pipeline_sha256.
  const std::vector<std::string>* replica_pipeline_states = nullptr;
  /// Named lists of tensors, each saved as NAME.pt (the weight average, the early-stopping best).
  std::map<std::string, std::vector<at::Tensor>> tensor_lists;
};

/// Writes `<root>/step-<state.step>` and keeps the newest `keep_last`. Returns its path.
/// `pipeline_state` (the data splitter's bytes; may be empty) becomes data_state.bin.
std::string save_training_checkpoint(const std::string& root, const TrainingState& state, const torch::nn::Module& model,
                                     const torch::optim::Optimizer& optimizer, const std::string& resolved_config,
                                     const std::string& pipeline_state, int64_t keep_last,
                                     const CheckpointExtras& extras = {});

/// A verified checkpoint's NAME.pt tensor list (CheckpointExtras::tensor_lists); empty when
/// the checkpoint has none.
std::vector<at::Tensor> load_checkpoint_tensors(const std::string& dir, const std::string& name);

/// This process's random generators (CPU, and the current CUDA device's) as one uint8 row.
at::Tensor generator_state_bytes();

/// Restores the generators from a row of generator_state_bytes; a UserError naming `source`
/// when it does not fit this process.
void set_generator_state_bytes(const at::Tensor& bytes, const std::string& source);

/// Verifies `dir` and returns its rng_ranks.pt (undefined when the run had one process).
at::Tensor load_rank_generators(const std::string& dir);

/// The bytes of a verified checkpoint's data_state.bin, or with `replica` > 0 a sharded
/// stream's data_state.replica-R.bin ("" when it has none).
std::string read_pipeline_state(const std::string& dir, int replica = 0);

/// Verifies `dir` (or, for a run directory, its latest complete checkpoint) and restores the
/// model (unless null: a caller that loaded it already, before splitting it), optimizer and
/// random generator. Fails closed with a UserError naming the file.
TrainingState load_training_checkpoint(const std::string& dir, torch::nn::Module* model,
                                       torch::optim::Optimizer& optimizer);

/// Verifies `dir` and reads its state.json (counters, fingerprints, data shape).
TrainingState read_training_state(const std::string& dir);

/// Verifies `dir` and loads only the model's parameters and buffers (for evaluation); returns
/// the checkpoint's step.
int64_t load_model_weights(const std::string& dir, torch::nn::Module& model);

/// `path` itself when it is a checkpoint, else the latest complete checkpoint in `path` (a
/// folder of checkpoints, e.g. checkpoints/best) or in `path/checkpoints` (a run directory); a
/// UserError when there is none.
std::string resolve_checkpoint(const std::string& path);

}  // namespace stratum
