#pragma once
// predictions.json: a run's per-example outcomes on the held-out splits at its final
// evaluation, so that runs can be compared example by example (paired bootstrap intervals in
// `stratum compare`) without re-running any model.

#include <map>
#include <string>
#include <vector>

#include "engine/slices/slice_metrics.h"

namespace stratum {

struct SplitEvaluation;

/// The validation and unseen splits' outcomes (those with any) as predictions.json's text.
std::string predictions_json(const std::vector<SplitEvaluation>& splits);

/// Reads predictions.json: split name -> outcomes. A UserError naming `path` when it is not one.
std::map<std::string, ExampleOutcomes> read_predictions(const std::string& path);

}  // namespace stratum
