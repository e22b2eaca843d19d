#pragma once
// A synthetic drifting stream for tests and demonstrations: Gaussian classes in feature
// space whose label mix and feature distribution change at configured points, with
// injectable corrupt records.

#include <cstdint>

#include "data/data_options.h"
#include "data/record.h"
#include "data/rng.h"
#include "data/split_data.h"

namespace stratum::data {

/// Deterministic generator of the stream `data.synthetic` describes.
class SyntheticStream {
 public:
  SyntheticStream(const SyntheticOptions& options, uint64_t seed, uint64_t stream);

  /// Record `index` (0-based, in order). Corrupt records have a non-finite feature or a label
  /// outside the classes; `validate` says why.
  Record next();

  /// Empty when the record is usable, else the reason it must be rejected.
  static std::string validate(const Record& record, int64_t classes, int64_t features);

 private:
  const SyntheticOptions& options_;
  Rng rng_;
  int64_t index_ = 0;
};

/// Reads the synthetic stream through the StreamSplitter; corrupt records are rejected and
/// budgeted; with `unseen.by: file` an independent stream of the same generator (no shifts)
/// is the unseen split.
SplitData read_synthetic_source(const DataOptions& options, const DataContext& context);

}  // namespace stratum::data
