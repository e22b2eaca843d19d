#pragma once
// The three splits every run trains and evaluates on, as one data source produces them.

#include <cstdint>
#include <string>

#include "data/data_spec.h"
#include "data/tensor_dataset.h"

namespace stratum::data {

/// Counts of what a source read, for the run log and the manifest.
struct ReadStats {
  int64_t records_read = 0;
  int64_t records_accepted = 0;
  int64_t records_rejected = 0;
};

/// seen (training), validation (held out from the same stream) and unseen (held out by
/// construction: another file, later time, or labels never trained on).
struct SplitData {
  DataSpec spec;
  TensorDataset seen;
  TensorDataset validation;
  TensorDataset unseen;
  std::string unseen_description;  ///< how the unseen split was held out, for reports
  ReadStats stats;
};

}  // namespace stratum::data
