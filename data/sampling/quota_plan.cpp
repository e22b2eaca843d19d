#include "data/sampling/quota_plan.h"

#include <algorithm>
#include <cmath>

namespace stratum::data {

namespace {

// Equal increments to every label below its limit, in label order, until `remaining` is used.
void water_fill(std::vector<int64_t>& capacity, const std::vector<int64_t>& limit, int64_t& remaining) {
  while (remaining > 0) {
    std::vector<size_t> hungry;
    for (size_t l = 0; l < capacity.size(); ++l) {
      if (capacity[l] < limit[l]) hungry.push_back(l);
    }
    if (hungry.empty()) return;
    const int64_t share = std::max<int64_t>(1, remaining / static_cast<int64_t>(hungry.size()));
    for (size_t l : hungry) {
      const int64_t give = std::min({share, limit[l] - capacity[l], remaining});
      capacity[l] += give;
      remaining -= give;
      if (remaining == 0) return;
    }
  }
}

}  // namespace

int64_t per_label_cap(const ReservoirSection& options) {
  const auto share = static_cast<int64_t>(std::floor(options.label_share_cap * static_cast<double>(options.max_items)));
  return std::max<int64_t>(1, std::min(options.max_per_label, share));
}

std::vector<int64_t> plan_capacities(const std::vector<int64_t>& seen, const ReservoirSection& options) {
  const size_t labels = seen.size();
  std::vector<int64_t> capacity(labels, 0), limit(labels, 0);
  if (labels == 0) return capacity;
  const int64_t cap = per_label_cap(options);
  // Minimums are reserved for every label that has appeared, even before its records arrive,
  // so a scarce label is never crowded out; when the minimums alone exceed the global cap
  // every label gets an equal share.
  const int64_t floor_share = options.max_items / static_cast<int64_t>(labels);
  int64_t remaining = options.max_items;
  for (size_t l = 0; l < labels; ++l) {
    limit[l] = std::min(seen[l], cap);
    capacity[l] = std::min({options.min_per_label, cap, floor_share});
    remaining -= capacity[l];
  }
  // Water-filling, twice: first up to what each label has actually offered, then whatever is
  // left as headroom up to the per-label cap, so a growing label keeps taking every record
  // until the next plan instead of sampling from a full reservoir too early.
  water_fill(capacity, limit, remaining);
  for (size_t l = 0; l < labels; ++l) limit[l] = cap;
  water_fill(capacity, limit, remaining);
  return capacity;
}

}  // namespace stratum::data
