#pragma once
// How the global capacity is shared among labels: a deterministic water-filling plan.

#include <cstdint>
#include <vector>

#include "core/config.h"

namespace stratum::data {

/// Capacity per label (index = label id) given how many records of each label the stream has
/// offered so far. Each label first has `min_per_label` reserved — a scarce label keeps its
/// minimum; the rest of `max_items` is then shared out equally among labels that can use it,
/// up to min(seen, per-label cap), so capacity one label does not use is lent to the others
/// and flows back as soon as that label's records arrive; what is still left is headroom up to
/// the per-label cap. The sum never exceeds `max_items`. Ties break by label id.
std::vector<int64_t> plan_capacities(const std::vector<int64_t>& seen, const ReservoirSection& options);

/// The effective per-label cap: min(max_per_label, label_share_cap * max_items), at least 1.
int64_t per_label_cap(const ReservoirSection& options);

}  // namespace stratum::data
