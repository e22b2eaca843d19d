#pragma once
// What the labeling-quality tools (`stratum qa ...`) are configured with.
#include <cstdint>
#include <string>
#include <vector>

#include "core/options.h"

namespace stratum::data {

/// thresholds, spot-check sampling.
struct QaOptions {
  std::string item_column = "item";
  std::string annotator_column = "annotator";
  std::string label_column = "label";
  double threshold = 0.6;
  double high_stakes_threshold = 0.8;
  std::vector<std::string> high_stakes_labels;
  double spotcheck_fraction = 0.05;
  int64_t time_buckets = 4;
  std::vector<std::string> reviewers = {"reviewer_1", "reviewer_2"};

  template <class V>
  static void describe(V& v) {
    v.field("item_column", &QaOptions::item_column, "annotation files: the column (or JSON field) naming the item");
    v.field("annotator_column", &QaOptions::annotator_column, "annotation files: the annotator's column");
    v.field("label_column", &QaOptions::label_column, "annotation and labeled files: the label's column");
    v.field("threshold", &QaOptions::threshold, "agreement (kappa) below which a routine label is flagged",
            in_range(-1.0, 1.0));
    v.field("high_stakes_threshold", &QaOptions::high_stakes_threshold,
            "agreement below which a high-stakes label is flagged", in_range(-1.0, 1.0));
    v.field("high_stakes_labels", &QaOptions::high_stakes_labels, "labels held to high_stakes_threshold");
    v.field("spotcheck_fraction", &QaOptions::spotcheck_fraction,
            "share of each label x time-bucket stratum sampled for review", in_range(0.0, 1.0));
    v.field("time_buckets", &QaOptions::time_buckets, "equal-width time buckets a spot check stratifies by",
            in_range(1, 1 << 16));
    v.field("reviewers", &QaOptions::reviewers, "the two independent reviewers each spot-checked item goes to");
  }
};

}  // namespace stratum::data
