// What the reservoirs promise, measured: every record a label offered is kept with the same
// probability whatever happened to the capacities on the way (fixed quotas, a global item cap
// whose quotas shrink as labels arrive, a binding byte cap, adversarial shrink schedules), and
// with decay the kept records follow exactly the weighted sample an offline top-k of keys
// would draw. Each test pools arrival-decile histograms over many seeds and applies a
// chi-square test at p = 1e-4; the reservoir that restarted its skip state after every
// eviction fails these by hundreds of standard deviations (see the README's reservoir section).

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "data/rng.h"
#include "data/sampling/label_reservoir.h"
#include "data/sampling/quota_plan.h"
#include "data/sampling/stratified_reservoir.h"

namespace stratum::data {
namespace {

constexpr int kDeciles = 10;
using Histogram = std::array<double, kDeciles>;
// Chi-square critical values at p = 1e-4: 9 degrees of freedom (a histogram against a flat
// one) and 9 again for a 2 x 10 homogeneity table.
constexpr double kCritical9 = 33.72;

double chi_square_flat(const Histogram& observed) {
  double total = 0;
  for (double o : observed) total += o;
  const double expected = total / kDeciles;
  double x = 0;
  for (double o : observed) x += (o - expected) * (o - expected) / expected;
  return x;
}

// Pearson's test that two histograms come from one distribution (a 2 x 10 table).
double chi_square_homogeneity(const Histogram& a, const Histogram& b) {
  double ta = 0, tb = 0;
  for (int i = 0; i < kDeciles; ++i) ta += a[i], tb += b[i];
  double x = 0;
  for (int i = 0; i < kDeciles; ++i) {
    const double column = a[i] + b[i];
    if (column == 0) continue;
    const double ea = column * ta / (ta + tb), eb = column * tb / (ta + tb);
    x += (a[i] - ea) * (a[i] - ea) / ea + (b[i] - eb) * (b[i] - eb) / eb;
  }
  return x;
}

std::string describe(const Histogram& h) {
  std::string out = "[";
  for (int i = 0; i < kDeciles; ++i) out += (i ? ", " : "") + std::to_string(static_cast<int64_t>(h[i]));
  return out + "]";
}

// A labeled stream: label of each record, drawn from `shares` (or given).
struct Stream {
  std::vector<int32_t> labels;
  std::vector<int64_t> per_label;  // records of each label
  std::vector<int64_t> index;      // arrival index of each record within its label
};

Stream make_stream(const std::vector<int32_t>& labels, size_t classes) {
  Stream s;
  s.labels = labels;
  s.per_label.assign(classes, 0);
  for (int32_t l : labels) s.index.push_back(s.per_label[static_cast<size_t>(l)]++);
  return s;
}

Stream mixed_stream(uint64_t seed, int64_t n, const std::vector<double>& shares) {
  Rng rng(seed, 99);
  std::vector<int32_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    double u = rng.uniform(), acc = 0;
    int32_t label = static_cast<int32_t>(shares.size()) - 1;
    for (size_t c = 0; c < shares.size(); ++c) {
      acc += shares[c];
      if (u < acc) {
        label = static_cast<int32_t>(c);
        break;
      }
    }
    labels.push_back(label);
  }
  return make_stream(labels, shares.size());
}

// Runs `stream` through a sampler; per label, adds the deciles (of that label's own arrivals)
// of the records it kept to `histograms`. Payload sizes vary with `payload(i)`.
template <class Payload>
void sample_into(const data::ReservoirOptions& options, uint64_t seed, const Stream& stream, Payload payload,
                 std::vector<Histogram>& histograms) {
  StratifiedReservoir sampler(options, seed);
  for (size_t i = 0; i < stream.labels.size(); ++i) {
    Record r;
    r.labels = {stream.labels[i]};
    r.payload = payload(i);
    r.time = static_cast<double>(i);
    r.origin.offset = static_cast<uint64_t>(stream.index[i]);
    sampler.offer(r);
  }
  sampler.rebalance();
  histograms.resize(stream.per_label.size(), Histogram{});
  for (int32_t label : sampler.labels()) {
    const int64_t n = stream.per_label[static_cast<size_t>(label)];
    for (const Record& r : sampler.reservoir(label).items()) {
      histograms[static_cast<size_t>(label)][static_cast<size_t>(static_cast<int64_t>(r.origin.offset) * kDeciles / n)] += 1;
    }
  }
}

// The audit's configuration: five labels at 60 / 25 / 10 / 4 / 1 %, a global cap that binds.
data::ReservoirOptions audit_options() {
  data::ReservoirOptions o;
  o.max_items = 5000;
  o.label_share_cap = 0.4;
  o.max_bytes = int64_t{1} << 40;
  return o;
}
const std::vector<double> kAuditShares = {0.60, 0.25, 0.10, 0.04, 0.01};

void expect_flat(const std::vector<Histogram>& histograms, const std::string& what) {
  for (size_t label = 0; label < histograms.size(); ++label) {
    EXPECT_LT(chi_square_flat(histograms[label]), kCritical9)
        << what << ", label " << label << ": kept records by arrival decile " << describe(histograms[label]);
  }
}

TEST(ReservoirUniformity, FixedCapacityKeepsEveryArrivalDecileEqually) {
  Histogram h{};
  for (uint64_t seed = 0; seed < 20; ++seed) {
    LabelReservoir r(seed, 1, false);
    r.set_capacity(500);
    for (int64_t i = 0; i < 20000; ++i) {
      const int64_t slot = r.offer(0);
      if (slot >= 0) r.items()[static_cast<size_t>(slot)].origin.offset = static_cast<uint64_t>(i);
    }
    for (const Record& item : r.items()) h[item.origin.offset * kDeciles / 20000] += 1;
  }
  EXPECT_LT(chi_square_flat(h), kCritical9) << describe(h);
}

TEST(ReservoirUniformity, BindingGlobalCapWithShrinkingQuotas) {
  std::vector<Histogram> histograms;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Stream stream = mixed_stream(seed, 200000, kAuditShares);
    sample_into(audit_options(), seed, stream, [](size_t) { return std::string("x"); }, histograms);
  }
  // The largest label's quota shrinks from 2000 to 1000 as the others fill theirs.
  expect_flat(histograms, "global cap");
}

TEST(ReservoirUniformity, BindingByteCap) {
  data::ReservoirOptions o = audit_options();
  o.max_items = 1000000;     // only the byte cap binds:
  o.label_share_cap = 1.0;
  o.max_per_label = 1000000;
  o.max_bytes = 600000;      // ~3,000 records of ~200 bytes
  std::vector<Histogram> histograms;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Stream stream = mixed_stream(seed, 100000, kAuditShares);
    Rng sizes(seed, 7);
    std::vector<std::string> payloads;
    for (size_t i = 0; i < stream.labels.size(); ++i) payloads.emplace_back(10 + sizes.below(150), 'x');
    sample_into(o, seed, stream, [&](size_t i) { return payloads[i]; }, histograms);
  }
  expect_flat(histograms, "byte cap");
}

TEST(ReservoirUniformity, AdversarialShrinksAndEvictionsKeepOneLabelUniform) {
  // Capacity cut at random moments and single records evicted in bursts, as the byte cap
  // would: what remains must be uniform over the whole stream.
  Histogram h{};
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Rng schedule(seed, 3);
    LabelReservoir r(seed, 1, false);
    r.set_capacity(2000);
    const int64_t n = 30000;
    for (int64_t i = 0; i < n; ++i) {
      const int64_t slot = r.offer(0);
      if (slot >= 0) r.items()[static_cast<size_t>(slot)].origin.offset = static_cast<uint64_t>(i);
      if (schedule.uniform() < 0.001 && r.capacity() > 300) r.set_capacity(r.capacity() - 1 - static_cast<int64_t>(schedule.below(100)));
      if (schedule.uniform() < 0.002 && r.size() > 300) {
        for (int k = 0; k < 5; ++k) r.evict();
      }
    }
    for (const Record& item : r.items()) h[item.origin.offset * kDeciles / n] += 1;
  }
  EXPECT_LT(chi_square_flat(h), kCritical9) << describe(h);
}

TEST(ReservoirUniformity, GrowthRefillsAtTheLabelsSamplingRate) {
  // Capacity 100 over the first half, 1000 over the second: records discarded in the first
  // half cannot come back, so the room fills at the rate the label was sampled at, keeping
  // every record's chance equal (not with the next 900 records).
  Histogram h{};
  int64_t kept = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    LabelReservoir r(seed, 1, false);
    r.set_capacity(100);
    const int64_t n = 20000;
    for (int64_t i = 0; i < n; ++i) {
      if (i == n / 2) r.set_capacity(1000);
      const int64_t slot = r.offer(0);
      if (slot >= 0) r.items()[static_cast<size_t>(slot)].origin.offset = static_cast<uint64_t>(i);
    }
    for (const Record& item : r.items()) h[item.origin.offset * kDeciles / n] += 1;
    kept += r.size();
  }
  EXPECT_LT(chi_square_flat(h), kCritical9) << describe(h);
  EXPECT_NEAR(static_cast<double>(kept) / 40, 200, 20);  // ~100 old + 10,000 x 100/10,000 new
}

// Offline reference for weighted sampling: every record's key log(w) - log(-log(u)), the `k`
// largest kept (A-Res, computed over the whole stream at once).
std::vector<int64_t> offline_top_k(Rng& rng, const std::vector<double>& log_weights, int64_t k) {
  std::vector<std::pair<double, int64_t>> keyed;
  for (size_t i = 0; i < log_weights.size(); ++i) {
    keyed.emplace_back(log_weights[i] - std::log(-std::log(rng.uniform())), static_cast<int64_t>(i));
  }
  std::partial_sort(keyed.begin(), keyed.begin() + k, keyed.end(), std::greater<>());
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < k; ++i) kept.push_back(keyed[static_cast<size_t>(i)].second);
  return kept;
}

TEST(ReservoirUniformity, DecayWithShrinkingQuotasMatchesTheOfflineWeightedSample) {
  data::ReservoirOptions o = audit_options();
  const int64_t n = 100000;
  o.decay = 3.0 / n;  // the newest record weighs e^3 ~ 20 times the oldest
  std::vector<Histogram> online(kAuditShares.size(), Histogram{}), offline(kAuditShares.size(), Histogram{});
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const Stream stream = mixed_stream(seed, n, kAuditShares);
    StratifiedReservoir sampler(o, seed);
    for (size_t i = 0; i < stream.labels.size(); ++i) {
      Record r;
      r.labels = {stream.labels[i]};
      r.payload = "x";
      r.time = static_cast<double>(i);
      r.origin.offset = i;
      sampler.offer(r);
    }
    sampler.rebalance();
    Rng reference(seed, 12345);
    for (int32_t label : sampler.labels()) {
      const LabelReservoir& reservoir = sampler.reservoir(label);
      for (const Record& r : reservoir.items()) online[static_cast<size_t>(label)][r.origin.offset * kDeciles / n] += 1;
      std::vector<double> log_weights;
      std::vector<int64_t> arrivals;
      for (size_t i = 0; i < stream.labels.size(); ++i) {
        if (stream.labels[i] == label) log_weights.push_back(o.decay * static_cast<double>(i)), arrivals.push_back(static_cast<int64_t>(i));
      }
      for (int64_t j : offline_top_k(reference, log_weights, reservoir.size())) {
        offline[static_cast<size_t>(label)][static_cast<size_t>(arrivals[static_cast<size_t>(j)] * kDeciles / n)] += 1;
      }
    }
  }
  for (size_t label = 0; label < online.size(); ++label) {
    EXPECT_LT(chi_square_homogeneity(online[label], offline[label]), kCritical9)
        << "label " << label << ": online " << describe(online[label]) << ", offline " << describe(offline[label]);
  }
  // The decay is visible: the newest decile of the largest label is kept far more than the oldest.
  EXPECT_GT(online[0][kDeciles - 1], 5 * online[0][0]);
}

// ---------------------------------------------------------------------------------------------
// Quota sizes against an independent computation
// ---------------------------------------------------------------------------------------------

// The documented rule, computed one slot at a time: reserve min(seen, min_per_label) (or the
// equal share when the minimums do not fit), then hand out single slots to the label with the
// smallest increment so far (lowest id first) among those below min(seen, per-label cap).
std::vector<int64_t> expected_sizes(const std::vector<int64_t>& seen, const data::ReservoirOptions& o) {
  const int64_t cap = std::max<int64_t>(1, std::min<int64_t>(o.max_per_label, static_cast<int64_t>(o.label_share_cap * o.max_items)));
  const auto labels = static_cast<int64_t>(seen.size());
  std::vector<int64_t> size(seen.size()), reserved(seen.size()), limit(seen.size());
  int64_t budget = o.max_items;
  for (size_t l = 0; l < seen.size(); ++l) {
    limit[l] = std::min(seen[l], cap);
    reserved[l] = size[l] = std::min({limit[l], o.min_per_label, o.max_items / labels});
    budget -= size[l];
  }
  while (budget > 0) {
    int64_t best = -1;
    for (size_t l = 0; l < seen.size(); ++l) {
      if (size[l] < limit[l] && (best < 0 || size[l] - reserved[l] < size[best] - reserved[best])) best = static_cast<int64_t>(l);
    }
    if (best < 0) break;
    ++size[static_cast<size_t>(best)];
    --budget;
  }
  return size;
}

data::ReservoirOptions audit_quota_options() {
  data::ReservoirOptions o;
  o.min_per_label = 100;
  o.max_per_label = 1000;
  o.label_share_cap = 0.5;
  o.max_items = 3000;
  o.max_bytes = int64_t{1} << 40;
  return o;
}

// Final sizes of a sampler fed `labels` in order.
std::vector<int64_t> final_sizes(const data::ReservoirOptions& o, uint64_t seed, const std::vector<int32_t>& labels, size_t classes) {
  StratifiedReservoir sampler(o, seed);
  for (size_t i = 0; i < labels.size(); ++i) {
    Record r;
    r.labels = {labels[i]};
    r.payload = "x";
    sampler.offer(r);
    EXPECT_LE(sampler.total_items(), o.max_items);
  }
  sampler.rebalance();
  std::vector<int64_t> sizes(classes, 0);
  for (int32_t l : sampler.labels()) sizes[static_cast<size_t>(l)] = sampler.reservoir(l).size();
  return sizes;
}

// The audit's six labels; `late` lists labels whose records all arrive in the last tenth.
std::vector<int32_t> audit_quota_stream(uint64_t seed, const std::vector<int32_t>& late) {
  const std::vector<int64_t> counts = {30000, 9000, 2500, 700, 150, 40};
  std::vector<int32_t> early, tail;
  for (size_t l = 0; l < counts.size(); ++l) {
    const bool is_late = std::find(late.begin(), late.end(), static_cast<int32_t>(l)) != late.end();
    for (int64_t i = 0; i < counts[l]; ++i) (is_late ? tail : early).push_back(static_cast<int32_t>(l));
  }
  Rng rng(seed, 5);
  // Shuffle the early part, then mix the late labels into its last tenth.
  for (size_t i = early.size(); i > 1; --i) std::swap(early[i - 1], early[rng.below(i)]);
  const size_t cut = early.size() * 9 / 10;
  std::vector<int32_t> last(early.begin() + static_cast<std::ptrdiff_t>(cut), early.end());
  last.insert(last.end(), tail.begin(), tail.end());
  for (size_t i = last.size(); i > 1; --i) std::swap(last[i - 1], last[rng.below(i)]);
  early.resize(cut);
  early.insert(early.end(), last.begin(), last.end());
  return early;
}

TEST(QuotaSizes, FinalSizesFollowTheDocumentedRuleWhenLabelsArriveLate) {
  const data::ReservoirOptions o = audit_quota_options();
  const std::vector<int64_t> counts = {30000, 9000, 2500, 700, 150, 40};
  const std::vector<int64_t> expected = expected_sizes(counts, o);
  EXPECT_EQ(expected, (std::vector<int64_t>{704, 703, 703, 700, 150, 40}));  // every slot used
  for (const std::vector<int32_t>& late : {std::vector<int32_t>{}, {3}, {2, 3}, {3, 4, 5}, {1}}) {
    for (uint64_t seed = 0; seed < 5; ++seed) {
      EXPECT_EQ(final_sizes(o, seed, audit_quota_stream(seed, late), counts.size()), expected)
          << "late labels " << late.size() << ", seed " << seed;
    }
  }
}

TEST(QuotaSizes, ScarceLabelsLendTheirReservedSlotsAndTakeThemBack) {
  data::ReservoirOptions o = audit_quota_options();
  o.max_items = 1000;
  o.label_share_cap = 1.0;
  // Label 1 has 60 records of its 100 reserved: the other label uses the 40 it cannot.
  std::vector<int32_t> labels(5000, 0);
  for (int i = 0; i < 60; ++i) labels[static_cast<size_t>(i * 80)] = 1;
  EXPECT_EQ(final_sizes(o, 1, labels, 2), (std::vector<int64_t>{940, 60}));
  EXPECT_EQ(expected_sizes({4940, 60}, o), (std::vector<int64_t>{940, 60}));
  // When its records keep coming, it takes them back and keeps every one up to its share.
  for (int i = 0; i < 440; ++i) labels.push_back(1);
  EXPECT_EQ(final_sizes(o, 1, labels, 2), (std::vector<int64_t>{500, 500}));
}

TEST(QuotaSizes, PlanMatchesTheIndependentComputation) {
  Rng rng(17);
  for (int trial = 0; trial < 300; ++trial) {
    data::ReservoirOptions o;
    o.min_per_label = static_cast<int64_t>(rng.below(300));
    o.max_per_label = 1 + static_cast<int64_t>(rng.below(3000));
    o.label_share_cap = 0.05 + 0.95 * rng.uniform();
    o.max_items = 1 + static_cast<int64_t>(rng.below(10000));
    std::vector<int64_t> seen(1 + rng.below(12));
    for (int64_t& s : seen) s = rng.uniform() < 0.3 ? static_cast<int64_t>(rng.below(50)) + 1 : static_cast<int64_t>(rng.below(20000)) + 1;
    const std::vector<int64_t> plan = plan_capacities(seen, o);
    const std::vector<int64_t> expected = expected_sizes(seen, o);
    int64_t total = 0;
    for (size_t l = 0; l < seen.size(); ++l) {
      EXPECT_EQ(std::min(plan[l], seen[l]), expected[l]) << "trial " << trial << ", label " << l;
      EXPECT_LE(plan[l], per_label_cap(o));
      total += plan[l];
    }
    EXPECT_LE(total, o.max_items) << "trial " << trial;
  }
}

}  // namespace
}  // namespace stratum::data
