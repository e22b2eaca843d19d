#pragma once
// The share of training examples each source of `data.sources` gets: its weight over the sum
// of weights, held inside [min_share, max_share] with the rest re-spread by weight.

#include <vector>

#include "data/data_options.h"

namespace stratum::data {

/// Shares summing to 1: share_i = clamp(λ · weight_i, min_share_i, max_share_i) for the one λ
/// that makes them sum to 1. Impossible bounds (minimums over 1, maximums under 1, every
/// weight 0, min over max) are UserErrors naming the key.
std::vector<double> resolve_mix_shares(const std::vector<SourceOptions>& sources);

}  // namespace stratum::data
