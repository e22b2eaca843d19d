#pragma once
// Spot checks: a deterministic stratified sample (per label and per time bucket) of labeled
// items, for two independent reviewers to relabel blind.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// One labeled item offered to the spot check.
struct SpotcheckItem {
  std::string id;
  std::string label;
  double time = 0;
};

/// How much to sample.
struct SpotcheckOptions {
  double fraction = 0.05;    ///< share of each stratum (at least one item per non-empty stratum)
  int64_t time_buckets = 4;  ///< equal-width buckets over the items' time range
  uint64_t seed = 1;
};

/// One label x time-bucket stratum and what was drawn from it.
struct SpotcheckStratum {
  std::string label;
  int64_t bucket = 0;
  int64_t size = 0;
  int64_t sampled = 0;
};

/// The drawn items (indices into the input, in a label-blind order) and the strata.
struct SpotcheckSample {
  std::vector<size_t> chosen;
  std::vector<int64_t> bucket_of;  ///< per input item
  std::vector<SpotcheckStratum> strata;
};

/// Draws ceil(fraction x size) items (at least 1) from every stratum. An item is drawn by the
/// rank of a hash of its id and the seed, so the sample depends on neither file order nor
/// platform, and a larger fraction only adds items.
SpotcheckSample spotcheck_sample(const std::vector<SpotcheckItem>& items, const SpotcheckOptions& options);

}  // namespace stratum::data
