#pragma once
// How big a built model is: parameters (packed quantized weights included) and the bytes of its
// weights by dtype, for the log, eval.json and `stratum info`.

#include <cstdint>
#include <map>
#include <string>

#include "core/torch_declarations.h"

namespace stratum::models {

/// Facts about the model recorded next to the evaluations.
struct ModelFacts {
  int64_t parameters = 0;
  int64_t trainable_parameters = 0;
  long peak_rss_bytes = 0;
  int64_t peak_cuda_allocated_bytes = -1;  ///< on a CUDA device; -1 when the run used none
  std::map<std::string, int64_t> weight_bytes;  ///< parameters and buffers by dtype ("float32": ...)
  /// Packed (quantized) frozen weights by format ("nf4"): how many weights, in how many bytes.
  struct Packed {
    int64_t weights = 0;
    int64_t bytes = 0;
  };
  std::map<std::string, Packed> packed;
};

/// Counts of `model`'s parameters (packed weights included) and the bytes of its weights by dtype.
ModelFacts model_facts(const torch::nn::Module& model);

/// "139018 parameters (5120 trainable, 3.7%); weights: float32 543 KiB" for the log.
std::string describe_model_facts(const ModelFacts& facts);

}  // namespace stratum::models
