#pragma once
// Inter-annotator agreement: Cohen's kappa per annotator pair, Fleiss' kappa, Krippendorff's
// alpha (nominal, missing ratings allowed), percent agreement, per-label agreement, and the
// items annotators disagree on. Undefined statistics (e.g. kappa when chance agreement is 1)
// are NaN, never a made-up number.

#include <cstdint>
#include <string>
#include <vector>

#include "data/quality/annotations.h"

namespace stratum::data {

/// Cohen's kappa of a square contingency table (rows: rater A's label, columns: rater B's).
double cohen_kappa(const std::vector<std::vector<double>>& table);

/// Fleiss' kappa of an items x categories table of rating counts. Items rated fewer than twice
/// are ignored; with a varying number of raters per item each item's agreement uses its own
/// count (equal to Fleiss 1971 when every item has the same number).
double fleiss_kappa(const std::vector<std::vector<double>>& counts);

/// Fleiss' kappa of one category against all others (Fleiss 1971, eq. 13).
double fleiss_category_kappa(const std::vector<std::vector<double>>& counts, size_t category);

/// Krippendorff's alpha for nominal data: `ratings[unit][coder]` is a category index or -1.
double krippendorff_alpha_nominal(const std::vector<std::vector<int32_t>>& ratings, size_t categories);

/// Cohen's kappa of two annotators over the items both rated.
struct PairAgreement {
  std::string first, second;
  int64_t items = 0;              ///< items both rated
  double percent = 0;             ///< share of those they labeled alike
  double kappa = 0;
};

/// How consistently one label is used.
struct LabelAgreement {
  std::string label;
  int64_t ratings = 0;
  double kappa = 0;               ///< Fleiss' per-category kappa
  double specific_agreement = 0;  ///< P(another rater says it | one rater says it)
  double threshold = 0;           ///< the threshold that applies to this label
  bool flagged = false;           ///< kappa below threshold (or undefined)
};

/// An item its annotators labeled differently.
struct Disagreement {
  std::string item;
  double agreement = 0;  ///< share of agreeing rater pairs on this item
  std::vector<std::pair<std::string, std::string>> ratings;  ///< (annotator, label)
};

/// Everything `stratum qa agreement` reports.
struct AgreementReport {
  int64_t items = 0, annotators = 0, ratings = 0;
  int64_t compared_items = 0;  ///< items with at least two ratings
  double percent_agreement = 0;
  double fleiss_kappa = 0;
  double krippendorff_alpha = 0;
  std::vector<PairAgreement> pairs;
  std::vector<LabelAgreement> labels;
  std::vector<Disagreement> disagreements;  ///< lowest agreement first
};

/// Thresholds a label's agreement is held to.
struct AgreementThresholds {
  double routine = 0.6;
  double high_stakes = 0.8;
  std::vector<std::string> high_stakes_labels;
};

AgreementReport measure_agreement(const AnnotationTable& table, const AgreementThresholds& thresholds);

/// The report as JSON (NaN as null) and as a console table.
std::string agreement_json(const AgreementReport& report);
std::string agreement_text(const AgreementReport& report);

}  // namespace stratum::data
