#include "data/quality/relabel_queue.h"

#include <algorithm>
#include <map>

#include "core/text.h"
#include "data/csv.h"

namespace stratum::data {

std::vector<RelabelEntry> build_relabel_queue(const std::vector<RelabelReason>& reasons) {
  std::map<std::string, RelabelEntry> by_item;
  std::map<std::pair<std::string, std::string>, double> strongest;  // (item, kind) -> impact
  for (const RelabelReason& r : reasons) {
    RelabelEntry& e = by_item[r.item];
    e.item = r.item;
    if (std::find(e.kinds.begin(), e.kinds.end(), r.kind) == e.kinds.end()) e.kinds.push_back(r.kind);
    e.reasons.push_back(r.reason);
    double& best = strongest[{r.item, r.kind}];
    best = std::max(best, r.impact);
  }
  for (const auto& [key, impact] : strongest) by_item[key.first].impact += impact;
  std::vector<RelabelEntry> queue;
  for (auto& [item, entry] : by_item) queue.push_back(std::move(entry));
  std::stable_sort(queue.begin(), queue.end(),
                   [](const RelabelEntry& a, const RelabelEntry& b) { return a.impact > b.impact; });
  return queue;
}

std::string relabel_queue_csv(const std::vector<RelabelEntry>& queue, const std::string& item_column) {
  std::string csv = csv_line({"rank", item_column, "impact", "kinds", "reasons"});
  for (size_t i = 0; i < queue.size(); ++i) {
    const RelabelEntry& e = queue[i];
    csv += csv_line({std::to_string(i + 1), e.item, format_number(e.impact), join(e.kinds, "+"), join(e.reasons, "; ")});
  }
  return csv;
}

}  // namespace stratum::data
