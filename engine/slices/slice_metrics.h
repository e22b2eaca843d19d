#pragma once
// Metrics by group (slice) of one split's evaluated examples, how far apart the groups are, and
// seeded bootstrap intervals on both, so a gap measured on a dozen examples is not read as bias.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stratum {

/// What evaluation measured on each scored example of a split (in scoring order).
struct ExampleOutcomes {
  bool language_model = false;
  int64_t num_classes = 0;
  std::vector<int64_t> example;         ///< index in the split's dataset
  std::vector<int64_t> target;          ///< classifiers: true class (-1: none)
  std::vector<int64_t> predicted;       ///< classifiers: argmax class
  std::vector<float> confidence;        ///< classifiers: max-softmax probability
  std::vector<double> loss;             ///< classifiers: cross-entropy; language models: summed token loss
  std::vector<int64_t> tokens;          ///< language models: next-token predictions scored
  std::vector<int64_t> correct_tokens;  ///< language models: of those, argmax hits

  size_t size() const { return example.size(); }
};

/// The metrics of one group of examples. Classifiers: accuracy, macro-F1 (over the classes in
/// the group's truth or predictions, as scikit-learn), mean cross-entropy, ECE (15 bins).
/// Language models: token accuracy, loss per token and perplexity.
struct SliceScores {
  int64_t count = 0;
  int64_t tokens = 0;
  double accuracy = 0, macro_f1 = 0, loss = 0, ece = 0, perplexity = 0;
};

/// The metrics a split of this kind is sliced by (classifiers: accuracy, macro_f1, loss, ece;
/// language models: accuracy, loss, perplexity).
const std::vector<std::string>& slice_metric_names(bool language_model);

/// True for metrics where smaller is better (loss, ece, perplexity).
bool slice_metric_lower_is_better(const std::string& metric);

/// The value of `metric` (one of slice_metric_names) in `scores`.
double slice_metric(const SliceScores& scores, const std::string& metric);

/// The scores of the examples at `members` (positions in `outcomes`; repeats count again).
SliceScores score_members(const ExampleOutcomes& outcomes, const std::vector<uint32_t>& members);

/// One group with its scores and, per metric, the bootstrap interval.
struct SliceGroupResult {
  std::string name;
  bool ranked = false;  ///< at least min_slice_size examples: compared with the others
  SliceScores scores;
  std::vector<std::pair<double, double>> intervals;  ///< per slice_metric_names entry
};

/// How far apart the ranked groups are on one metric (Fairlearn's MetricFrame difference() and
/// ratio() over groups), the worst and best group, and bootstrap intervals: of the worst group's
/// value, and of the difference and ratio between the two extreme groups the point estimates name.
struct SliceDisparity {
  std::string metric;
  bool available = false;  ///< at least two ranked groups
  double difference = 0;   ///< largest minus smallest value
  double ratio = 0;        ///< smallest / largest (NaN when the largest is 0)
  std::string worst, best;
  double worst_value = 0, best_value = 0;
  std::pair<double, double> difference_interval{0, 0}, ratio_interval{0, 0}, worst_interval{0, 0};
};

/// Every group's scores and every metric's disparity for one slice definition on one split.
struct SliceResult {
  std::vector<SliceGroupResult> groups;
  std::vector<SliceDisparity> disparities;  ///< per slice_metric_names entry
  int64_t resamples = 0;
};

/// Scores the groups (`group_of[i]` is outcome i's group, an index into `names`). Groups under
/// `min_size` examples are scored but not ranked. With `resamples` > 0, each group is resampled
/// with replacement (its size kept) `resamples` times from a stream seeded with `seed`; every
/// figure is recomputed on each resample and its 95% percentile interval kept.
SliceResult score_slices(const ExampleOutcomes& outcomes, const std::vector<int32_t>& group_of,
                         const std::vector<std::string>& names, int64_t min_size, int64_t resamples, uint64_t seed);

}  // namespace stratum
