#include "data/sampling/quota_plan.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace stratum::data {
namespace {

// Gives every label up to room[l] more capacity in equal increments D (the largest that
// `remaining` covers), then one more to the lowest ids that still have room, until
// `remaining` is used. O(L log L), so the sampler can afford to re-plan often.
void fill_equally(std::vector<int64_t>& capacity, const std::vector<int64_t>& room, int64_t& remaining) {
  if (remaining <= 0) return;
  std::vector<int64_t> sorted;
  for (int64_t r : room) {
    if (r > 0) sorted.push_back(r);
  }
  std::sort(sorted.begin(), sorted.end());
  // D: walk the rooms upwards; before room j, labels j.. each take the same increment.
  int64_t below = 0;  // sum of the rooms already fully given
  int64_t increment = -1;
  for (size_t j = 0; j < sorted.size(); ++j) {
    const auto others = static_cast<int64_t>(sorted.size() - j);
    if (below + others * sorted[j] > remaining) {
      increment = (remaining - below) / others;
      break;
    }
    below += sorted[j];
  }
  if (increment < 0) {  // every room fits
    for (size_t l = 0; l < capacity.size(); ++l) capacity[l] += std::max<int64_t>(0, room[l]);
    remaining -= below;
    return;
  }
  for (size_t l = 0; l < capacity.size(); ++l) {
    const int64_t give = std::clamp<int64_t>(room[l], 0, increment);
    capacity[l] += give;
    remaining -= give;
  }
  for (size_t l = 0; l < capacity.size() && remaining > 0; ++l) {
    if (room[l] > increment) ++capacity[l], --remaining;
  }
}

}  // namespace

int64_t per_label_cap(const ReservoirOptions& options, int64_t max_items) {
  const auto share = static_cast<int64_t>(std::floor(options.label_share_cap * static_cast<double>(max_items)));
  return std::max<int64_t>(1, std::min(options.max_per_label, share));
}

int64_t per_label_cap(const ReservoirOptions& options) { return per_label_cap(options, options.max_items); }

std::vector<int64_t> plan_capacities(const std::vector<int64_t>& seen, const ReservoirOptions& options) {
  return plan_capacities(seen, options, options.max_items);
}

std::vector<int64_t> plan_capacities(const std::vector<int64_t>& seen, const ReservoirOptions& options,
                                     int64_t max_items) {
  const size_t labels = seen.size();
  std::vector<int64_t> capacity(labels, 0), room(labels, 0);
  if (labels == 0 || max_items <= 0) return capacity;
  const int64_t cap = per_label_cap(options, max_items);
  // When the minimums alone exceed the budget every label is promised an equal share.
  const int64_t minimum = std::min({options.min_per_label, cap, max_items / static_cast<int64_t>(labels)});
  int64_t remaining = max_items;
  for (size_t l = 0; l < labels; ++l) {
    const int64_t usable = std::min(seen[l], cap);
    capacity[l] = std::min(usable, minimum);
    room[l] = usable - capacity[l];
    remaining -= capacity[l];
  }
  // Up to what each label has actually offered, then whatever is left as headroom up to the
  // per-label cap, so a growing label keeps taking every record instead of sampling early.
  fill_equally(capacity, room, remaining);
  for (size_t l = 0; l < labels; ++l) room[l] = cap - capacity[l];
  fill_equally(capacity, room, remaining);
  return capacity;
}

}  // namespace stratum::data
