#include "data/mixing/mix_shares.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "core/text.h"

namespace stratum::data {
namespace {

std::string key(size_t i, const char* field) { return "data.sources[" + std::to_string(i) + "]." + field; }

double clamped(double lambda, const SourceOptions& s) {
  return std::clamp(lambda * s.weight, s.min_share, s.max_share);
}

}  // namespace

std::vector<double> resolve_mix_shares(const std::vector<SourceOptions>& sources) {
  double weights = 0, lowest = 0, highest = 0;
  for (size_t i = 0; i < sources.size(); ++i) {
    const SourceOptions& s = sources[i];
    if (!(s.weight >= 0) || !std::isfinite(s.weight)) throw UserError(key(i, "weight") + ": must be a number >= 0");
    if (s.min_share > s.max_share) {
      throw UserError(key(i, "min_share") + ": " + format_number(s.min_share) + " is above max_share " +
                      format_number(s.max_share));
    }
    weights += s.weight;
    lowest += s.min_share;
    // A source of weight 0 never grows past its minimum.
    highest += s.weight > 0 ? s.max_share : s.min_share;
  }
  if (weights <= 0 && lowest < 1 - 1e-12) {
    throw UserError("data.sources: every weight is 0 (the weights give the shares of training examples)");
  }
  if (lowest > 1 + 1e-12) {
    throw UserError("data.sources: the min_share values add up to " + format_number(lowest) + ", more than 1");
  }
  if (highest < 1 - 1e-12) {
    throw UserError("data.sources: the max_share values of the sources with weight add up to " + format_number(highest) +
                    ", less than 1");
  }
  // sum_i clamp(λ w_i, min_i, max_i) grows with λ: bisect for the λ where it reaches 1.
  double lo = 0, hi = 1;
  const auto total = [&](double lambda) {
    double sum = 0;
    for (const SourceOptions& s : sources) sum += clamped(lambda, s);
    return sum;
  };
  while (total(hi) < 1 && hi < 1e300) hi *= 2;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (total(mid) < 1 ? lo : hi) = mid;
  }
  std::vector<double> shares;
  for (const SourceOptions& s : sources) shares.push_back(clamped(hi, s));
  double sum = 0;
  for (double p : shares) sum += p;
  for (double& p : shares) p /= sum;  // the last rounding
  return shares;
}

}  // namespace stratum::data
