#include "data/quality/spotcheck.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "data/hash.h"

namespace stratum::data {

SpotcheckSample spotcheck_sample(const std::vector<SpotcheckItem>& items, const SpotcheckOptions& options) {
  STRATUM_CHECK(options.fraction > 0 && options.fraction <= 1 && options.time_buckets >= 1, "bad spot-check options");
  SpotcheckSample sample;
  if (items.empty()) return sample;
  double lo = items[0].time, hi = items[0].time;
  for (const SpotcheckItem& item : items) lo = std::min(lo, item.time), hi = std::max(hi, item.time);
  const double width = (hi - lo) / static_cast<double>(options.time_buckets);

  std::map<std::pair<std::string, int64_t>, std::vector<size_t>> strata;
  std::vector<uint64_t> rank(items.size());
  sample.bucket_of.resize(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    int64_t bucket = width > 0 ? static_cast<int64_t>((items[i].time - lo) / width) : 0;
    bucket = std::min(bucket, options.time_buckets - 1);
    sample.bucket_of[i] = bucket;
    strata[{items[i].label, bucket}].push_back(i);
    rank[i] = splitmix64(options.seed ^ content_hash(items[i].id.data(), items[i].id.size()));
  }
  const auto by_rank = [&](size_t a, size_t b) { return rank[a] != rank[b] ? rank[a] < rank[b] : a < b; };
  for (auto& [key, members] : strata) {
    const auto size = static_cast<int64_t>(members.size());
    const int64_t take = std::min(size, std::max<int64_t>(1, static_cast<int64_t>(std::ceil(options.fraction * size - 1e-9))));
    std::sort(members.begin(), members.end(), by_rank);
    sample.chosen.insert(sample.chosen.end(), members.begin(), members.begin() + take);
    sample.strata.push_back({key.first, key.second, size, take});
  }
  // Reviewers see the items in hash order, which says nothing about their labels.
  std::sort(sample.chosen.begin(), sample.chosen.end(), by_rank);
  return sample;
}

}  // namespace stratum::data
