#include "data/mixing/mix_schedule.h"

#include "core/error.h"

namespace stratum::data {

MixSchedule::MixSchedule(std::vector<double> shares, uint64_t seed)
    : shares_(std::move(shares)), counts_(shares_.size(), 0), rng_(seed, 0x6d6978) {
  double sum = 0;
  for (double p : shares_) sum += p;
  STRATUM_CHECK(!shares_.empty() && sum > 0.999999 && sum < 1.000001, "mix shares must sum to 1");
}

size_t MixSchedule::next() {
  const double next_total = static_cast<double>(drawn_ + 1);
  size_t best = 0;
  double best_lag = -1e300;
  for (size_t s = 0; s < shares_.size(); ++s) {
    if (shares_[s] <= 0) continue;
    const double lag = shares_[s] * next_total - static_cast<double>(counts_[s]) + rng_.uniform();
    if (lag > best_lag) best_lag = lag, best = s;
  }
  ++counts_[best];
  ++drawn_;
  return best;
}

}  // namespace stratum::data
