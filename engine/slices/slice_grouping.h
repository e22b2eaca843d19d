#pragma once
// Which group (slice) each evaluated example falls in under one eval.slices entry: its source,
// label, time bucket, a JSON field's value or bin, a numeric feature's bin, or the crossing of
// two of these.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/config.h"

namespace stratum {
namespace data {
struct TensorDataset;
}

/// What the data tells about one split's examples, for grouping them.
struct SliceFacts {
  const data::TensorDataset* dataset = nullptr;
  std::vector<std::string> class_names;
  std::vector<std::string> source_names;           ///< per Provenance::source (the run's file index)
  std::vector<std::string> fields;                 ///< the order of TensorDataset::fields (DataContext::slice_fields)
  std::vector<float> feature_mean, feature_std;    ///< undo the standardization of feature:N
};

/// The groups of one slice definition over a list of examples.
struct SliceGroups {
  std::vector<std::string> names;  ///< in order: categories by name, buckets by value, "(missing)" last
  std::vector<int32_t> group_of;   ///< per example, an index into names
};

/// Groups `examples` (indices into facts.dataset) by `slice`. Problems (a bin that does not
/// cover a value, a field that is not numeric where bins need one, more than `max_groups`
/// groups, data without what the dimension needs) are UserErrors naming `key`.
SliceGroups group_examples(const SliceOptions& slice, const std::string& key, const SliceFacts& facts,
                           const std::vector<int64_t>& examples, int64_t max_groups);

/// The slice's name: its `name`, or its dimensions joined by " x ".
std::string slice_name(const SliceOptions& slice);

/// The JSON fields the slices read (dimensions that are none of source, label, time,
/// feature:N), each once, in first-use order: what records must keep (DataContext::slice_fields).
std::vector<std::string> slice_fields(const std::vector<SliceOptions>& slices);

/// The checks eval.slices and eval.slice_alerts need before any data is read: dimensions and
/// their options, crossings, names, alert metrics and thresholds. Fails through config.fail.
void check_slice_config(const RunConfig& config);

}  // namespace stratum
