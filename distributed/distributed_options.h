#pragma once
// Multi-process settings (the `distributed:` section).
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"

namespace stratum::distributed {

/// The c10d backend (automatic: NCCL for CUDA tensors when available, else Gloo).
enum class Backend { automatic, nccl, gloo };
inline const ChoiceTable<Backend>& choices(Backend) {
  static const ChoiceTable<Backend> table{{Backend::automatic, "auto"}, {Backend::nccl, "nccl"}, {Backend::gloo, "gloo"}};
  return table;
}

/// How replicas share the input stream.
enum class StreamSharding { replicated, sharded };
inline const ChoiceTable<StreamSharding>& choices(StreamSharding) {
  static const ChoiceTable<StreamSharding> table{{StreamSharding::replicated, "replicated"}, {StreamSharding::sharded, "sharded"}};
  return table;
}

/// Multi-process settings (data and tensor parallel).
struct DistributedOptions {
  Backend backend = Backend::automatic;
  int64_t tensor_parallel = 1;
  StreamSharding stream = StreamSharding::replicated;
  double bucket_mb = 25.0;
  double init_timeout_s = 300.0;
  double collective_timeout_s = 600.0;

  template <class V>
  static void describe(V& v) {
    v.field("backend", &DistributedOptions::backend, "c10d backend");
    v.field("tensor_parallel", &DistributedOptions::tensor_parallel, "tensor-parallel degree", in_range(1, 1 << 16));
    v.field("stream", &DistributedOptions::stream,
            "replicated: every replica reads the whole stream and takes its share of each global batch (exact, "
            "resumable on other replica counts); sharded: replica r reads records r, r+R, ... into its own "
            "reservoirs and splits (each record is read once)");
    v.field("bucket_mb", &DistributedOptions::bucket_mb, "gradient all-reduce bucket size in MB",
            in_range(0.001, 65536));
    v.field("init_timeout_s", &DistributedOptions::init_timeout_s,
            "seconds every rank waits for all the others to join the job", in_range(0.1, 604800));
    v.field("collective_timeout_s", &DistributedOptions::collective_timeout_s,
            "a collective that takes longer ends the job", in_range(0.1, 604800));
  }
};

}  // namespace stratum::distributed
