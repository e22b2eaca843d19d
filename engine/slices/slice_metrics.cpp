#include "engine/slices/slice_metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "core/bootstrap.h"
#include "engine/calibration.h"

namespace stratum {

const std::vector<std::string>& slice_metric_names(bool language_model) {
  static const std::vector<std::string> classifier = {"accuracy", "macro_f1", "loss", "ece"};
  static const std::vector<std::string> language = {"accuracy", "loss", "perplexity"};
  return language_model ? language : classifier;
}

bool slice_metric_lower_is_better(const std::string& metric) {
  return metric == "loss" || metric == "ece" || metric == "perplexity";
}

double slice_metric(const SliceScores& s, const std::string& metric) {
  if (metric == "accuracy") return s.accuracy;
  if (metric == "macro_f1") return s.macro_f1;
  if (metric == "loss") return s.loss;
  if (metric == "ece") return s.ece;
  if (metric == "perplexity") return s.perplexity;
  return std::nan("");
}

SliceScores score_members(const ExampleOutcomes& o, const std::vector<uint32_t>& members) {
  SliceScores s;
  s.count = static_cast<int64_t>(members.size());
  if (members.empty()) return s;
  if (o.language_model) {
    double loss = 0;
    int64_t correct = 0;
    for (uint32_t i : members) loss += o.loss[i], s.tokens += o.tokens[i], correct += o.correct_tokens[i];
    const double scored = static_cast<double>(std::max<int64_t>(1, s.tokens));
    s.loss = loss / scored;
    s.perplexity = std::exp(s.loss);
    s.accuracy = static_cast<double>(correct) / scored;
    return s;
  }
  // Per class: true positives, predictions and truths; F1 = 2 tp / (predicted + true).
  const auto classes = static_cast<size_t>(std::max<int64_t>(1, o.num_classes));
  std::vector<int64_t> tp(classes, 0), predicted(classes, 0), truth(classes, 0);
  std::vector<float> confidence;
  std::vector<uint8_t> hit;
  confidence.reserve(members.size());
  hit.reserve(members.size());
  double loss = 0;
  int64_t correct = 0;
  for (uint32_t i : members) {
    const int64_t t = o.target[i], p = o.predicted[i];
    const bool ok = t == p;
    correct += ok;
    loss += o.loss[i];
    if (p >= 0 && static_cast<size_t>(p) < classes) ++predicted[static_cast<size_t>(p)];
    if (t >= 0 && static_cast<size_t>(t) < classes) ++truth[static_cast<size_t>(t)], tp[static_cast<size_t>(t)] += ok;
    confidence.push_back(o.confidence[i]);
    hit.push_back(static_cast<uint8_t>(ok));
  }
  double f1 = 0;
  int64_t present = 0;
  for (size_t c = 0; c < classes; ++c) {
    if (predicted[c] == 0 && truth[c] == 0) continue;
    ++present;
    f1 += 2.0 * static_cast<double>(tp[c]) / static_cast<double>(predicted[c] + truth[c]);
  }
  const double n = static_cast<double>(members.size());
  s.accuracy = static_cast<double>(correct) / n;
  s.macro_f1 = present ? f1 / static_cast<double>(present) : 0.0;
  s.loss = loss / n;
  s.ece = expected_calibration_error(confidence, hit);
  return s;
}

namespace {

// The disparity figures of `values` (one per group) over the ranked groups.
struct Figures {
  bool available = false;
  double difference = 0, ratio = 0;
  size_t lowest = 0, highest = 0;
};

Figures figures(const std::vector<double>& values, const std::vector<bool>& ranked) {
  Figures f;
  int64_t count = 0;
  for (size_t g = 0; g < values.size(); ++g) {
    if (!ranked[g]) continue;
    if (count++ == 0 || values[g] < values[f.lowest]) f.lowest = g;
    if (count == 1 || values[g] > values[f.highest]) f.highest = g;
  }
  if (count < 2) return f;
  f.available = true;
  f.difference = values[f.highest] - values[f.lowest];
  f.ratio = values[f.highest] != 0 ? values[f.lowest] / values[f.highest] : std::nan("");
  return f;
}

}  // namespace

SliceResult score_slices(const ExampleOutcomes& outcomes, const std::vector<int32_t>& group_of,
                         const std::vector<std::string>& names, int64_t min_size, int64_t resamples, uint64_t seed) {
  const std::vector<std::string>& metrics = slice_metric_names(outcomes.language_model);
  std::vector<std::vector<uint32_t>> members(names.size());
  for (size_t i = 0; i < group_of.size(); ++i) members[static_cast<size_t>(group_of[i])].push_back(static_cast<uint32_t>(i));

  SliceResult result;
  result.resamples = resamples;
  std::vector<bool> ranked(names.size());
  // values[m][g]: metric m of group g.
  std::vector<std::vector<double>> values(metrics.size(), std::vector<double>(names.size(), 0));
  for (size_t g = 0; g < names.size(); ++g) {
    SliceGroupResult group;
    group.name = names[g];
    group.scores = score_members(outcomes, members[g]);
    group.ranked = ranked[g] = group.scores.count >= min_size && group.scores.count > 0;
    for (size_t m = 0; m < metrics.size(); ++m) values[m][g] = slice_metric(group.scores, metrics[m]);
    result.groups.push_back(std::move(group));
  }

  // The groups the point estimates find lowest and highest on each metric: the disparity's
  // intervals are those of these two groups' difference and ratio (re-choosing the extremes in
  // every resample would bias the interval upwards, away from the true gap between them).
  std::vector<Figures> point(metrics.size());
  for (size_t m = 0; m < metrics.size(); ++m) point[m] = figures(values[m], ranked);

  // Bootstrap: every group resampled within itself (its size kept), every figure recomputed.
  std::vector<std::vector<std::vector<double>>> group_samples(
      metrics.size(), std::vector<std::vector<double>>(names.size()));
  std::vector<std::vector<double>> difference_samples(metrics.size()), ratio_samples(metrics.size());
  if (resamples > 0) {
    std::mt19937_64 stream(seed);
    std::vector<uint32_t> drawn;
    std::vector<std::vector<double>> replicate(metrics.size(), std::vector<double>(names.size(), 0));
    for (int64_t r = 0; r < resamples; ++r) {
      for (size_t g = 0; g < names.size(); ++g) {
        const std::vector<uint32_t>& pool = members[g];
        if (pool.empty()) continue;
        std::uniform_int_distribution<size_t> pick(0, pool.size() - 1);
        drawn.resize(pool.size());
        for (uint32_t& d : drawn) d = pool[pick(stream)];
        const SliceScores s = score_members(outcomes, drawn);
        for (size_t m = 0; m < metrics.size(); ++m) {
          replicate[m][g] = slice_metric(s, metrics[m]);
          group_samples[m][g].push_back(replicate[m][g]);
        }
      }
      for (size_t m = 0; m < metrics.size(); ++m) {
        if (!point[m].available) continue;
        const double high = replicate[m][point[m].highest], low = replicate[m][point[m].lowest];
        difference_samples[m].push_back(high - low);
        if (high != 0) ratio_samples[m].push_back(low / high);
      }
    }
  }
  for (size_t g = 0; g < names.size(); ++g) {
    for (size_t m = 0; m < metrics.size(); ++m) result.groups[g].intervals.push_back(percentile_interval(group_samples[m][g]));
  }
  for (size_t m = 0; m < metrics.size(); ++m) {
    SliceDisparity d;
    d.metric = metrics[m];
    const Figures& f = point[m];
    d.available = f.available;
    if (f.available) {
      const bool lower_better = slice_metric_lower_is_better(metrics[m]);
      const size_t worst = lower_better ? f.highest : f.lowest, best = lower_better ? f.lowest : f.highest;
      d.difference = f.difference;
      d.ratio = f.ratio;
      d.worst = names[worst];
      d.best = names[best];
      d.worst_value = values[m][worst];
      d.best_value = values[m][best];
      d.difference_interval = percentile_interval(difference_samples[m]);
      d.ratio_interval = percentile_interval(ratio_samples[m]);
      d.worst_interval = result.groups[worst].intervals[m];
    }
    result.disparities.push_back(std::move(d));
  }
  return result;
}

}  // namespace stratum
