#pragma once
// Evaluation by slice: every eval.slices entry scored on a split's evaluated examples, the
// disparity between its groups, the alerts eval.slice_alerts asks for, and their JSON form.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/config.h"
#include "engine/slices/slice_grouping.h"
#include "engine/slices/slice_metrics.h"

namespace stratum {
namespace data {
struct SplitData;
}

/// A gap between slices beyond eval.slice_alerts' thresholds.
struct SliceAlert {
  std::string split, slice, metric;
  std::string worst, best;
  double difference = 0, ratio = 0;
  std::pair<double, double> difference_interval{0, 0};
  double max_gap = 0, min_ratio = 0;

  /// One line for the log: which slice, how far apart, against which threshold.
  std::string describe() const;
};

/// One slice definition evaluated on one split.
struct SliceEvaluation {
  std::string name;
  std::vector<std::string> by;
  SliceResult result;
  std::vector<SliceAlert> alerts;
};

/// `v` with four decimals, as slice tables and alerts print figures.
std::string fixed4(double v);

/// What `data` tells about the examples of `split` (one of its three datasets).
SliceFacts slice_facts(const data::SplitData& data, const data::TensorDataset& split, const RunConfig& config);

/// Scores every eval.slices entry on `outcomes` (the split's evaluated examples) and raises the
/// configured alerts. Bootstrap streams are seeded from run.seed, the split and the slice's name.
std::vector<SliceEvaluation> evaluate_slices(const RunConfig& config, const SliceFacts& facts, const std::string& split,
                                             const ExampleOutcomes& outcomes);

/// Checks eval.slices against the data before training: every JSON field is carried by some
/// record, and grouping every split's examples works (bins cover the values, few enough groups).
void check_slices_against_data(const RunConfig& config, const data::SplitData& data);

/// eval.json's form of one split's slices (a JSON array, as text).
std::string slices_json(const std::vector<SliceEvaluation>& slices);

}  // namespace stratum
