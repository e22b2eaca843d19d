#pragma once
// How the global capacity is shared among labels: a deterministic water-filling plan.

#include <cstdint>
#include <vector>

#include "data/data_options.h"

namespace stratum::data {

/// Capacity per label (index = label id) given how many records of each label the stream has
/// offered so far and how many items the global caps allow (`max_items`, or fewer when the
/// byte cap binds first). Each label first has up to `min_per_label` reserved, as far as it
/// has records to fill it with; the rest is then shared out in equal increments among labels
/// that can use it, up to min(seen, per-label cap); what is still left is headroom, again in
/// equal increments, up to the per-label cap. So capacity a label does not use is lent to the
/// others, and flows back as soon as that label's records arrive (the sampler re-plans the
/// moment a label that has kept every record it saw runs out of room). The sum never exceeds
/// `max_items`; where increments cannot be equal, lower label ids get the extra one.
std::vector<int64_t> plan_capacities(const std::vector<int64_t>& seen, const ReservoirOptions& options,
                                     int64_t max_items);

/// The plan with `options.max_items` as the item budget.
std::vector<int64_t> plan_capacities(const std::vector<int64_t>& seen, const ReservoirOptions& options);

/// The effective per-label cap under an item budget: min(max_per_label, label_share_cap *
/// max_items), at least 1.
int64_t per_label_cap(const ReservoirOptions& options, int64_t max_items);
int64_t per_label_cap(const ReservoirOptions& options);

}  // namespace stratum::data
