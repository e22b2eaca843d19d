#include "data/quality/spotcheck.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace stratum::data {
namespace {

std::vector<SpotcheckItem> items() {
  std::vector<SpotcheckItem> out;
  for (int i = 0; i < 1000; ++i) {
    // A rare label (2%) and a common one, spread over time 0..999.
    out.push_back({"item" + std::to_string(i), i % 50 == 0 ? "rare" : "common", static_cast<double>(i)});
  }
  return out;
}

TEST(Spotcheck, SamplesEveryLabelAndTimeBucketAtTheFraction) {
  const auto all = items();
  const SpotcheckSample s = spotcheck_sample(all, {0.05, 4, 7});
  ASSERT_EQ(s.strata.size(), 8u);  // 2 labels x 4 buckets
  std::map<std::pair<std::string, int64_t>, int64_t> drawn;
  for (size_t i : s.chosen) drawn[{all[i].label, s.bucket_of[i]}]++;
  for (const SpotcheckStratum& st : s.strata) {
    EXPECT_EQ(drawn[std::make_pair(st.label, st.bucket)], st.sampled);
    EXPECT_EQ(st.sampled, std::max<int64_t>(1, (st.size * 5 + 99) / 100)) << st.label << " " << st.bucket;
  }
  // Rare strata hold 5 items each: a share of 5% still draws one.
  for (const SpotcheckStratum& st : s.strata) {
    if (st.label == "rare") {
      EXPECT_EQ(st.sampled, 1);
    }
  }
  EXPECT_EQ(std::set<size_t>(s.chosen.begin(), s.chosen.end()).size(), s.chosen.size());
}

TEST(Spotcheck, DeterministicBySeedIndependentOfOrderAndNested) {
  auto all = items();
  const auto ids = [&](const std::vector<SpotcheckItem>& from, const SpotcheckSample& s) {
    std::set<std::string> out;
    for (size_t i : s.chosen) out.insert(from[i].id);
    return out;
  };
  const auto a = ids(all, spotcheck_sample(all, {0.05, 4, 7}));
  EXPECT_EQ(a, ids(all, spotcheck_sample(all, {0.05, 4, 7})));
  EXPECT_NE(a, ids(all, spotcheck_sample(all, {0.05, 4, 8})));
  auto reversed = all;
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(a, ids(reversed, spotcheck_sample(reversed, {0.05, 4, 7})));
  const auto larger = ids(all, spotcheck_sample(all, {0.10, 4, 7}));
  EXPECT_TRUE(std::includes(larger.begin(), larger.end(), a.begin(), a.end()));
}

TEST(Spotcheck, TheReviewOrderDoesNotGroupByLabel) {
  const auto all = items();
  const SpotcheckSample s = spotcheck_sample(all, {0.5, 1, 3});
  // The 10 rare items drawn (half of 20) are scattered through the list, not first or last as a block.
  std::vector<size_t> positions;
  for (size_t k = 0; k < s.chosen.size(); ++k) {
    if (all[s.chosen[k]].label == "rare") positions.push_back(k);
  }
  ASSERT_EQ(positions.size(), 10u);
  EXPECT_GT(positions.back() - positions.front(), s.chosen.size() / 2);
}

}  // namespace
}  // namespace stratum::data
