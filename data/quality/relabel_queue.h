#pragma once
// The relabeling queue: every reason an item (or a whole label) should be looked at again,
// merged per item and ordered by expected impact.

#include <string>
#include <vector>

namespace stratum::data {

/// One reason to relabel, with its expected impact in [0, 1]:
///  - "disagreement": annotators differ; impact = share of disagreeing annotator pairs;
///  - "model": the trained model confidently contradicts the label; impact = p(suggested) - p(given);
///  - "label_agreement": a label's kappa is below its threshold; impact = threshold - kappa;
///  - "drift": the data pipeline raised a drift alert; impact = (value - threshold) / value.
struct RelabelReason {
  std::string item;    ///< item id, "label:NAME" or "drift:RECORD"
  std::string kind;
  std::string reason;  ///< one sentence a reviewer can act on
  double impact = 0;
};

/// One queue entry: an item and all its reasons.
struct RelabelEntry {
  std::string item;
  double impact = 0;  ///< per kind the strongest reason's impact, summed over kinds (so an item
                      ///< flagged for two different reasons goes before one flagged for one)
  std::vector<std::string> kinds;
  std::vector<std::string> reasons;
};

/// Merges reasons by item and sorts by impact (largest first; ties by item id).
std::vector<RelabelEntry> build_relabel_queue(const std::vector<RelabelReason>& reasons);

/// The queue as CSV: rank, item, impact, kinds, reasons.
std::string relabel_queue_csv(const std::vector<RelabelEntry>& queue, const std::string& item_column);

}  // namespace stratum::data
