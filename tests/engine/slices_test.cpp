// Evaluation by slice: per-group metrics equal the whole-split ones and Fairlearn's MetricFrame;
// grouping by field values, bins, time buckets and crossings; a planted bias is found, ranked
// worst and alerted on over many seeds while unbiased streams raise no alert; bad slice
// definitions are one-line errors naming the key.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "data/split_data.h"
#include "engine/calibration.h"
#include "engine/classification.h"
#include "engine/slices/slice_evaluation.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum {
namespace {

// Outcomes of a classifier with `classes` classes over `n` examples: right with probability
// `p`, otherwise a uniformly drawn other class; confidence and loss loosely follow correctness.
ExampleOutcomes random_outcomes(size_t n, int64_t classes, double p, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  ExampleOutcomes o;
  o.num_classes = classes;
  for (size_t i = 0; i < n; ++i) {
    const int64_t truth = static_cast<int64_t>(rng() % static_cast<uint32_t>(classes));
    const bool right = unit(rng) < p;
    const int64_t other = (truth + 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(classes - 1))) % classes;
    o.example.push_back(static_cast<int64_t>(i));
    o.target.push_back(truth);
    o.predicted.push_back(right ? truth : other);
    o.confidence.push_back(static_cast<float>(right ? 0.6 + 0.4 * unit(rng) : 0.3 + 0.5 * unit(rng)));
    o.loss.push_back(right ? 0.1 + unit(rng) : 1.0 + 2 * unit(rng));
  }
  return o;
}

std::vector<uint32_t> all_of(const ExampleOutcomes& o) {
  std::vector<uint32_t> members(o.size());
  for (size_t i = 0; i < members.size(); ++i) members[i] = static_cast<uint32_t>(i);
  return members;
}

TEST(SliceMetrics, OneGroupEqualsTheWholeSplitFigures) {
  const ExampleOutcomes o = random_outcomes(2000, 5, 0.7, 3);
  const SliceScores s = score_members(o, all_of(o));
  ConfusionMatrix confusion(5);
  std::vector<int64_t> counts(25, 0);
  std::vector<uint8_t> hits;
  double loss = 0;
  for (size_t i = 0; i < o.size(); ++i) {
    ++counts[static_cast<size_t>(o.target[i] * 5 + o.predicted[i])];
    hits.push_back(o.target[i] == o.predicted[i]);
    loss += o.loss[i];
  }
  confusion.set_counts(counts);
  const ClassificationScores whole = confusion.scores();
  EXPECT_EQ(s.count, 2000);
  EXPECT_NEAR(s.accuracy, whole.accuracy, 1e-12);
  EXPECT_NEAR(s.macro_f1, whole.macro_f1, 1e-12);
  EXPECT_NEAR(s.loss, loss / 2000, 1e-12);
  EXPECT_NEAR(s.ece, expected_calibration_error(o.confidence, hits), 1e-12);
}

TEST(SliceMetrics, DisparityRanksOnlyGroupsOfTheMinimumSize) {
  ExampleOutcomes o;
  o.num_classes = 2;
  std::vector<int32_t> group_of;
  // Group a: 20 examples, 18 right; b: 20, 10 right; c: 4 examples, none right (too few to rank).
  const auto add = [&](int32_t group, int right, int total) {
    for (int i = 0; i < total; ++i) {
      o.example.push_back(static_cast<int64_t>(o.example.size()));
      o.target.push_back(0);
      o.predicted.push_back(i < right ? 0 : 1);
      o.confidence.push_back(0.9f);
      o.loss.push_back(i < right ? 0.1 : 2.0);
      group_of.push_back(group);
    }
  };
  add(0, 18, 20);
  add(1, 10, 20);
  add(2, 0, 4);
  const SliceResult r = score_slices(o, group_of, {"a", "b", "c"}, 10, 0, 1);
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_TRUE(r.groups[0].ranked);
  EXPECT_FALSE(r.groups[2].ranked);
  EXPECT_DOUBLE_EQ(r.groups[2].scores.accuracy, 0.0);  // reported all the same
  const SliceDisparity& accuracy = r.disparities[0];
  ASSERT_EQ(accuracy.metric, "accuracy");
  EXPECT_TRUE(accuracy.available);
  EXPECT_NEAR(accuracy.difference, 0.9 - 0.5, 1e-12);
  EXPECT_NEAR(accuracy.ratio, 0.5 / 0.9, 1e-12);
  EXPECT_EQ(accuracy.worst, "b");
  EXPECT_EQ(accuracy.best, "a");
  const SliceDisparity& loss = r.disparities[2];
  ASSERT_EQ(loss.metric, "loss");
  EXPECT_EQ(loss.worst, "b");  // the larger loss is the worse
  EXPECT_NEAR(loss.worst_value, (10 * 0.1 + 10 * 2.0) / 20, 1e-12);
  // One ranked group has nothing to compare with.
  const SliceResult alone = score_slices(o, group_of, {"a", "b", "c"}, 20, 0, 1);
  EXPECT_TRUE(alone.disparities[0].available);
  const SliceResult none = score_slices(o, group_of, {"a", "b", "c"}, 21, 0, 1);
  EXPECT_FALSE(none.disparities[0].available);
}

TEST(SliceMetrics, BootstrapIntervalsAreSeededAndHoldThePointEstimates) {
  const ExampleOutcomes o = random_outcomes(600, 3, 0.8, 9);
  std::vector<int32_t> group_of;
  for (size_t i = 0; i < o.size(); ++i) group_of.push_back(static_cast<int32_t>(i % 3));
  const SliceResult a = score_slices(o, group_of, {"x", "y", "z"}, 30, 300, 42);
  const SliceResult b = score_slices(o, group_of, {"x", "y", "z"}, 30, 300, 42);
  const SliceResult c = score_slices(o, group_of, {"x", "y", "z"}, 30, 300, 43);
  for (size_t g = 0; g < 3; ++g) {
    for (size_t m = 0; m < a.groups[g].intervals.size(); ++m) {
      EXPECT_EQ(a.groups[g].intervals[m], b.groups[g].intervals[m]);
      const double value = slice_metric(a.groups[g].scores, slice_metric_names(false)[m]);
      EXPECT_LE(a.groups[g].intervals[m].first, value + 1e-12);
      EXPECT_GE(a.groups[g].intervals[m].second, value - 1e-12);
    }
  }
  EXPECT_NE(a.disparities[0].difference_interval, c.disparities[0].difference_interval);
  EXPECT_LT(a.disparities[0].difference_interval.first, a.disparities[0].difference_interval.second);
}

TEST(SliceMetrics, LanguageModelSlicesPoolTokens) {
  ExampleOutcomes o;
  o.language_model = true;
  o.example = {0, 1, 2};
  o.loss = {2.0, 6.0, 3.0};
  o.tokens = {2, 4, 3};
  o.correct_tokens = {1, 1, 3};
  const SliceResult r = score_slices(o, {0, 0, 1}, {"a", "b"}, 1, 0, 1);
  EXPECT_EQ(r.groups[0].scores.tokens, 6);
  EXPECT_NEAR(r.groups[0].scores.loss, 8.0 / 6, 1e-12);
  EXPECT_NEAR(r.groups[0].scores.perplexity, std::exp(8.0 / 6), 1e-12);
  EXPECT_NEAR(r.groups[0].scores.accuracy, 2.0 / 6, 1e-12);
  EXPECT_EQ(r.disparities[2].metric, "perplexity");
  EXPECT_EQ(r.disparities[2].worst, "a");
}

TEST(SliceMetrics, EqualFairlearnMetricFrame) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  testing::TempDir dir;
  // Three random cases, each with uneven groups (g4 so small that some classes miss from it).
  const std::vector<std::string> names = {"g0", "g1", "g2", "g3", "g4"};
  std::vector<ExampleOutcomes> cases;
  std::vector<std::vector<int32_t>> groupings;
  std::string files;
  for (const uint32_t seed : {1u, 2u, 3u}) {
    cases.push_back(random_outcomes(900, 4, 0.6, seed));
    std::mt19937 rng(seed + 100);
    std::vector<int32_t> group_of;
    std::string csv = "y_true,y_pred,group\n";
    for (size_t i = 0; i < cases.back().size(); ++i) {
      const uint32_t u = rng() % 100;
      const int32_t g = u < 40 ? 0 : u < 65 ? 1 : u < 85 ? 2 : u < 97 ? 3 : 4;
      group_of.push_back(g);
      csv += std::to_string(cases.back().target[i]) + "," + std::to_string(cases.back().predicted[i]) + "," +
             names[static_cast<size_t>(g)] + "\n";
    }
    groupings.push_back(group_of);
    files += " '" + dir.write("outcomes" + std::to_string(seed) + ".csv", csv) + "'";
  }
  const testing::CommandResult ref = testing::run_command(
      "'" + python + "' '" + STRATUM_SOURCE_DIR + "/scripts/parity/fairlearn_slices.py'" + files);
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  const auto all = nlohmann::json::parse(ref.out);
  ASSERT_EQ(all.size(), cases.size());
  for (size_t c = 0; c < cases.size(); ++c) {
    const nlohmann::json& expected = all[c];
    const SliceResult r = score_slices(cases[c], groupings[c], names, 1, 0, 1);
    for (const std::string metric : {"accuracy", "macro_f1"}) {
      for (const SliceGroupResult& g : r.groups) {
        EXPECT_NEAR(slice_metric(g.scores, metric), expected["by_group"][metric][g.name].get<double>(), 1e-9)
            << metric << " " << g.name << " case " << c;
      }
      const SliceDisparity& d = r.disparities[metric == std::string("accuracy") ? 0 : 1];
      EXPECT_NEAR(d.difference, expected["difference"][metric].get<double>(), 1e-9) << metric;
      EXPECT_NEAR(d.ratio, expected["ratio"][metric].get<double>(), 1e-9) << metric;
      EXPECT_NEAR(d.worst_value, expected["group_min"][metric].get<double>(), 1e-9) << metric;
      EXPECT_NEAR(d.best_value, expected["group_max"][metric].get<double>(), 1e-9) << metric;
    }
  }
}

// A split of feature vectors with JSON fields "region" and "age", a time per example and
// sources, for grouping tests.
struct SlicedSplit {
  data::TensorDataset dataset;
  SliceFacts facts;
};

SlicedSplit sliced_split(const std::vector<std::string>& regions, const std::vector<std::string>& ages,
                         const std::vector<double>& times) {
  SlicedSplit s;
  const auto n = static_cast<int64_t>(regions.size());
  s.dataset.inputs = torch::arange(n, torch::kFloat32).reshape({n, 1});
  s.dataset.targets = torch::arange(n, torch::kInt64).remainder(2);
  for (int64_t i = 0; i < n; ++i) {
    s.dataset.origins.push_back({static_cast<uint32_t>(i % 2), static_cast<uint64_t>(i)});
    s.dataset.times.push_back(times[static_cast<size_t>(i)]);
    s.dataset.fields.push_back({regions[static_cast<size_t>(i)], ages[static_cast<size_t>(i)]});
  }
  s.facts.dataset = &s.dataset;
  s.facts.class_names = {"cat", "dog"};
  s.facts.source_names = {"feedA", "feedB"};
  s.facts.fields = {"region", "age"};
  s.facts.feature_mean = {10};
  s.facts.feature_std = {2};  // raw feature = 2 x + 10
  return s;
}

SliceOptions slice(std::vector<std::string> by) {
  SliceOptions o;
  o.by = std::move(by);
  return o;
}

std::vector<std::string> names_of(const SliceGroups& g) {
  std::vector<std::string> out;
  for (const int32_t id : g.group_of) out.push_back(g.names[static_cast<size_t>(id)]);
  return out;
}

TEST(SliceGrouping, FieldsLabelsSourcesBinsTimeAndCrossings) {
  SlicedSplit s = sliced_split({R"("north")", R"("south")", "", R"("north")"}, {"17", "\"42\"", "65", ""},
                               {86400 * 3 + 5, 86400 * 3 + 7200, 86400 * 4, 86400 * 10 + 1});
  const std::vector<int64_t> all = {0, 1, 2, 3};
  const SliceGroups region = group_examples(slice({"region"}), "eval.slices[0]", s.facts, all, 100);
  EXPECT_EQ(region.names, (std::vector<std::string>{"north", "south", "(missing)"}));
  EXPECT_EQ(names_of(region), (std::vector<std::string>{"north", "south", "(missing)", "north"}));
  EXPECT_EQ(names_of(group_examples(slice({"label"}), "k", s.facts, all, 100)),
            (std::vector<std::string>{"cat", "dog", "cat", "dog"}));
  EXPECT_EQ(names_of(group_examples(slice({"source"}), "k", s.facts, all, 100)),
            (std::vector<std::string>{"feedA", "feedB", "feedA", "feedB"}));

  SliceOptions ages = slice({"age"});
  ages.bins = {0, 18, 65, 120};  // a number written as a string ("42") counts as a number
  EXPECT_EQ(names_of(group_examples(ages, "k", s.facts, all, 100)),
            (std::vector<std::string>{"[0, 18)", "[18, 65)", "[65, 120]", "(missing)"}));
  ages.bins = {18, 65};
  EXPECT_EQ(testing::user_error([&] { group_examples(ages, "eval.slices[2]", s.facts, all, 100); }),
            "eval.slices[2].bins: age value 17 lies outside the bins [18, 65]");

  SliceOptions days = slice({"time"});
  days.every = "1d";
  const SliceGroups by_day = group_examples(days, "k", s.facts, all, 100);
  EXPECT_EQ(by_day.names, (std::vector<std::string>{"1970-01-04", "1970-01-05", "1970-01-11"}));
  EXPECT_EQ(names_of(by_day)[1], "1970-01-04");
  days.every = "6h";
  EXPECT_EQ(group_examples(days, "k", s.facts, all, 100).names[0], "1970-01-04T00:00Z");

  SliceOptions features = slice({"feature:0"});
  features.bins = {10, 13, 20};  // raw values 10, 12, 14, 16
  EXPECT_EQ(names_of(group_examples(features, "k", s.facts, all, 100)),
            (std::vector<std::string>{"[10, 13)", "[10, 13)", "[13, 20]", "[13, 20]"}));
  features.bins.clear();
  features.buckets = 2;
  EXPECT_EQ(names_of(group_examples(features, "k", s.facts, all, 100)),
            (std::vector<std::string>{"[10, 14)", "[10, 14)", "[14, 16]", "[14, 16]"}));

  const SliceGroups crossed = group_examples(slice({"source", "region"}), "k", s.facts, all, 100);
  EXPECT_EQ(crossed.names, (std::vector<std::string>{"feedA x north", "feedA x (missing)", "feedB x north", "feedB x south"}));
  EXPECT_EQ(testing::user_error([&] { group_examples(slice({"source", "region"}), "eval.slices[1]", s.facts, all, 3); }),
            "eval.slices[1].by: source x region makes more than 3 groups (eval.max_slices); slice a numeric field "
            "by bins or buckets, or choose a coarser field");
  SliceOptions strings = slice({"region"});
  strings.buckets = 2;
  EXPECT_EQ(testing::user_error([&] { group_examples(strings, "eval.slices[0]", s.facts, all, 100); }),
            "eval.slices[0].buckets: field \"region\" holds \"north\", not a number");
}

TEST(SliceGrouping, DataWithoutWhatADimensionNeedsIsAnError) {
  data::TensorDataset windows;  // token windows: no origins, times or fields
  windows.inputs = torch::zeros({3, 4}, torch::kInt64);
  windows.targets = torch::zeros({3, 4}, torch::kInt64);
  SliceFacts facts;
  facts.dataset = &windows;
  EXPECT_EQ(testing::user_error([&] { group_examples(slice({"source"}), "eval.slices[0]", facts, {0, 1}, 10); }),
            "eval.slices[0].by: source: these examples carry no origins (token shards)");
  EXPECT_EQ(testing::user_error([&] { group_examples(slice({"label"}), "eval.slices[0]", facts, {0, 1}, 10); }),
            "eval.slices[0].by: label: these examples have no single class label (a language model's data)");
  SliceOptions feature = slice({"feature:0"});
  feature.buckets = 2;
  EXPECT_EQ(testing::user_error([&] { group_examples(feature, "eval.slices[0]", facts, {0, 1}, 10); }),
            "eval.slices[0].by: feature:0: the inputs are not feature vectors");
}

// A classifier's outcomes on three regions of 1,000 examples each, right with probability 0.95;
// region "south" has its labels flipped to another of 4 classes with probability `flip`.
struct RegionStream {
  data::SplitData data;
  ExampleOutcomes outcomes;
};

RegionStream region_stream(double flip, uint32_t seed) {
  RegionStream s;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const std::vector<std::string> regions = {R"("north")", R"("south")", R"("east")"};
  constexpr int64_t kPerRegion = 1000, kClasses = 4;
  const int64_t n = 3 * kPerRegion;
  s.outcomes.num_classes = kClasses;
  std::vector<int64_t> targets;
  for (int64_t i = 0; i < n; ++i) {
    const size_t region = static_cast<size_t>(i % 3);
    const int64_t truth = static_cast<int64_t>(rng() % kClasses);
    const bool right = unit(rng) < 0.95;
    const int64_t predicted = right ? truth : (truth + 1 + static_cast<int64_t>(rng() % (kClasses - 1))) % kClasses;
    int64_t label = truth;
    if (region == 1 && unit(rng) < flip) label = (truth + 1 + static_cast<int64_t>(rng() % (kClasses - 1))) % kClasses;
    s.outcomes.example.push_back(i);
    s.outcomes.target.push_back(label);
    s.outcomes.predicted.push_back(predicted);
    s.outcomes.confidence.push_back(0.9f);
    s.outcomes.loss.push_back(predicted == label ? 0.1 : 2.3);
    targets.push_back(label);
    data::Record r;
    r.fields = {regions[region]};
    s.data.validation.add_record_facts(r);
  }
  s.data.validation.inputs = torch::zeros({n, 1});
  s.data.validation.targets = torch::tensor(targets, torch::kInt64);
  s.data.spec.class_names = {"a", "b", "c", "d"};
  return s;
}

RunConfig region_config() {
  RunConfig config;
  config.eval.slices = {slice({"region"})};
  config.eval.slice_bootstrap = 200;
  config.eval.slice_alerts.metric = "accuracy";
  config.eval.slice_alerts.max_gap = 0.05;
  return config;
}

TEST(SliceEvaluation, PlantedBiasIsRankedWorstAndAlertedOnOverManySeeds) {
  // Expected accuracy of south: not flipped and right (0.8 x 0.95), or flipped onto the very
  // class a wrong prediction picked (0.2 x 0.05 / 3); the others: 0.95.
  constexpr double kFlip = 0.2;
  const double expected_gap = 0.95 - ((1 - kFlip) * 0.95 + kFlip * 0.05 / 3);
  int covered = 0, seeds = 0;
  for (uint32_t seed = 1; seed <= 200; ++seed, ++seeds) {
    RegionStream s = region_stream(kFlip, seed);
    RunConfig config = region_config();
    config.run.seed = seed;
    const std::vector<SliceEvaluation> e =
        evaluate_slices(config, slice_facts(s.data, s.data.validation, config), "validation", s.outcomes);
    ASSERT_EQ(e.size(), 1u);
    const SliceDisparity& accuracy = e[0].result.disparities[0];
    EXPECT_EQ(accuracy.worst, "south") << "seed " << seed;
    ASSERT_EQ(e[0].alerts.size(), 1u) << "seed " << seed;
    EXPECT_EQ(e[0].alerts[0].worst, "south");
    EXPECT_NEAR(accuracy.difference, expected_gap, 0.06) << "seed " << seed;
    covered += accuracy.difference_interval.first <= expected_gap && expected_gap <= accuracy.difference_interval.second;
  }
  // The interval holds the true gap in 181 of these 200 seeds: a little under the nominal 95%,
  // as percentile intervals run narrow and the best slice is picked by its own (noisy) estimate.
  // An interval that ignored the noise, or centred elsewhere, would hold it far less often.
  EXPECT_GE(covered, 170) << "of " << seeds;
}

TEST(SliceEvaluation, UnbiasedStreamsRaiseNoAlert) {
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    RegionStream s = region_stream(0.0, seed);
    RunConfig config = region_config();
    config.run.seed = seed;
    const std::vector<SliceEvaluation> e =
        evaluate_slices(config, slice_facts(s.data, s.data.validation, config), "validation", s.outcomes);
    EXPECT_TRUE(e[0].alerts.empty()) << "seed " << seed << ": gap " << e[0].result.disparities[0].difference;
    EXPECT_LT(e[0].result.disparities[0].difference, 0.05);
  }
  // Alerts go to the configured splits only.
  RegionStream s = region_stream(0.3, 1);
  RunConfig config = region_config();
  EXPECT_TRUE(evaluate_slices(config, slice_facts(s.data, s.data.validation, config), "seen", s.outcomes)[0].alerts.empty());
}

TEST(SliceEvaluation, FieldsNoRecordCarriesAreErrorsBeforeTraining) {
  RegionStream s = region_stream(0.0, 1);
  RunConfig config = region_config();
  config.eval.slices.push_back(slice({"city"}));
  EXPECT_NO_THROW(check_slices_against_data(region_config(), s.data));
  // Records carry the fields slice_fields names, in order; "city" is absent from every one.
  for (auto& fields : s.data.validation.fields) fields.push_back("");
  EXPECT_EQ(testing::user_error([&] { check_slices_against_data(config, s.data); }),
            "<config>: eval.slices[1].by: no record carries the field \"city\" (fields are read from the JSONL lines "
            "of text sources and the rows of image lists)");
}

TEST(SliceConfig, BadDefinitionsNameTheKey) {
  const auto error = [](const std::function<void(RunConfig&)>& change) {
    RunConfig config;
    config.eval.slices = {slice({"region"})};
    change(config);
    return testing::user_error([&] { check_slice_config(config); });
  };
  EXPECT_EQ(error([](RunConfig&) {}), "");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].by = {"region", "region"}; }),
            "<config>: eval.slices[0].by: crosses region with itself");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].by = {"a", "b", "c"}; }),
            "<config>: eval.slices[0].by: expected one dimension or two to cross, got 3");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].by = {"feature:x"}; }),
            "<config>: eval.slices[0].by: \"feature:x\" is not a dimension (source, label, time, feature:N or a "
            "JSON field name)");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].by = {"time"}; }),
            "<config>: eval.slices[0]: slicing by time needs every (e.g. 1d) or buckets (N equal-count buckets)");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].by = {"time"}, c.eval.slices[0].every = "1y"; }),
            "<config>: eval.slices[0].every: expected a positive width such as 45s, 30m, 6h, 1d, 2w or a number, got "
            "\"1y\"");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].bins = {1, 1}; }),
            "<config>: eval.slices[0].bins: edges must be strictly ascending");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices[0].by = {"label"}, c.eval.slices[0].bins = {0, 1}; }),
            "<config>: eval.slices[0].bins: applies to a JSON field or feature:N only");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slices.push_back(slice({"region"})); }),
            "<config>: eval.slices[1].name: another slice is called \"region\"");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slice_alerts.metric = "acuracy", c.eval.slice_alerts.max_gap = 0.1; }),
            "<config>: eval.slice_alerts.metric: expected one of accuracy, macro_f1, loss, ece, perplexity, got "
            "\"acuracy\" (did you mean accuracy?)");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slice_alerts.max_gap = 0.1; }),
            "<config>: eval.slice_alerts.metric: name the metric the thresholds apply to (e.g. accuracy)");
  EXPECT_EQ(error([](RunConfig& c) { c.eval.slice_alerts.metric = "accuracy"; }),
            "<config>: eval.slice_alerts: set max_gap or min_ratio for the alert on accuracy");
  EXPECT_EQ(slice_fields({slice({"source", "region"}), slice({"time"}), slice({"user.age", "region"})}),
            (std::vector<std::string>{"region", "user.age"}));
}

}  // namespace
}  // namespace stratum
