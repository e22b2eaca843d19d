#include "data/quality/agreement.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/text.h"

namespace stratum::data {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Items x categories rating counts of a table.
std::vector<std::vector<double>> category_counts(const AnnotationTable& table) {
  std::vector<std::vector<double>> counts(table.items.size(), std::vector<double>(table.labels.size(), 0.0));
  for (size_t i = 0; i < table.items.size(); ++i) {
    for (int32_t label : table.ratings[i]) {
      if (label >= 0) counts[i][static_cast<size_t>(label)] += 1;
    }
  }
  return counts;
}

double row_sum(const std::vector<double>& row) {
  double s = 0;
  for (double v : row) s += v;
  return s;
}

// Share of agreeing rater pairs on one item (n >= 2).
double item_agreement(const std::vector<double>& row) {
  const double n = row_sum(row);
  double agreeing = 0;
  for (double c : row) agreeing += c * (c - 1);
  return agreeing / (n * (n - 1));
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

std::string shown(double v) { return std::isfinite(v) ? format_number(std::round(v * 10000) / 10000) : "undefined"; }

}  // namespace

double cohen_kappa(const std::vector<std::vector<double>>& table) {
  const size_t k = table.size();
  double total = 0, observed = 0;
  std::vector<double> rows(k, 0), cols(k, 0);
  for (size_t r = 0; r < k; ++r) {
    for (size_t c = 0; c < k; ++c) {
      total += table[r][c];
      rows[r] += table[r][c];
      cols[c] += table[r][c];
    }
    observed += table[r][r];
  }
  if (total <= 0) return kNaN;
  double expected = 0;
  for (size_t i = 0; i < k; ++i) expected += rows[i] * cols[i];
  observed /= total;
  expected /= total * total;
  return expected >= 1 ? kNaN : (observed - expected) / (1 - expected);
}

double fleiss_kappa(const std::vector<std::vector<double>>& counts) {
  double agreement = 0, items = 0, ratings = 0;
  std::vector<double> totals(counts.empty() ? 0 : counts[0].size(), 0.0);
  for (const auto& row : counts) {
    if (row_sum(row) < 2) continue;
    agreement += item_agreement(row);
    items += 1;
    for (size_t j = 0; j < row.size(); ++j) totals[j] += row[j];
    ratings += row_sum(row);
  }
  if (items == 0) return kNaN;
  double chance = 0;
  for (double t : totals) chance += (t / ratings) * (t / ratings);
  return chance >= 1 ? kNaN : (agreement / items - chance) / (1 - chance);
}

double fleiss_category_kappa(const std::vector<std::vector<double>>& counts, size_t category) {
  double disagreement = 0, pairs = 0, in_category = 0, ratings = 0;
  for (const auto& row : counts) {
    const double n = row_sum(row);
    if (n < 2) continue;
    disagreement += row[category] * (n - row[category]);
    pairs += n * (n - 1);
    in_category += row[category];
    ratings += n;
  }
  if (ratings == 0) return kNaN;
  const double p = in_category / ratings;
  const double spread = pairs * p * (1 - p);
  return spread <= 0 ? kNaN : 1 - disagreement / spread;
}

double krippendorff_alpha_nominal(const std::vector<std::vector<int32_t>>& ratings, size_t categories) {
  // Coincidence matrix over pairable values (units with at least two ratings).
  std::vector<std::vector<double>> coincidence(categories, std::vector<double>(categories, 0.0));
  for (const auto& unit : ratings) {
    std::vector<double> counts(categories, 0.0);
    double m = 0;
    for (int32_t v : unit) {
      if (v >= 0) counts[static_cast<size_t>(v)] += 1, m += 1;
    }
    if (m < 2) continue;
    for (size_t c = 0; c < categories; ++c) {
      for (size_t k = 0; k < categories; ++k) {
        coincidence[c][k] += counts[c] * (counts[k] - (c == k ? 1 : 0)) / (m - 1);
      }
    }
  }
  std::vector<double> marginals(categories, 0.0);
  double n = 0, observed = 0;
  for (size_t c = 0; c < categories; ++c) {
    for (size_t k = 0; k < categories; ++k) {
      marginals[c] += coincidence[c][k];
      if (c != k) observed += coincidence[c][k];
    }
    n += marginals[c];
  }
  if (n <= 1) return kNaN;
  double expected = 0;
  for (size_t c = 0; c < categories; ++c) {
    for (size_t k = 0; k < categories; ++k) {
      if (c != k) expected += marginals[c] * marginals[k];
    }
  }
  return expected <= 0 ? kNaN : 1 - (n - 1) * observed / expected;
}

AgreementReport measure_agreement(const AnnotationTable& table, const AgreementThresholds& thresholds) {
  AgreementReport report;
  report.items = static_cast<int64_t>(table.items.size());
  report.annotators = static_cast<int64_t>(table.annotators.size());
  report.ratings = table.rating_count;
  const auto counts = category_counts(table);
  const size_t labels = table.labels.size();

  double agreement = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (row_sum(counts[i]) < 2) continue;
    ++report.compared_items;
    const double share = item_agreement(counts[i]);
    agreement += share;
    if (share < 1) {
      Disagreement d{table.items[i], share, {}};
      for (size_t a = 0; a < table.annotators.size(); ++a) {
        const int32_t label = table.ratings[i][a];
        if (label >= 0) d.ratings.emplace_back(table.annotators[a], table.labels[static_cast<size_t>(label)]);
      }
      report.disagreements.push_back(std::move(d));
    }
  }
  std::stable_sort(report.disagreements.begin(), report.disagreements.end(),
                   [](const Disagreement& a, const Disagreement& b) { return a.agreement < b.agreement; });
  report.percent_agreement = report.compared_items > 0 ? agreement / static_cast<double>(report.compared_items) : kNaN;
  report.fleiss_kappa = fleiss_kappa(counts);
  report.krippendorff_alpha = krippendorff_alpha_nominal(table.ratings, labels);

  for (size_t a = 0; a < table.annotators.size(); ++a) {
    for (size_t b = a + 1; b < table.annotators.size(); ++b) {
      std::vector<std::vector<double>> contingency(labels, std::vector<double>(labels, 0.0));
      PairAgreement pair{table.annotators[a], table.annotators[b], 0, 0, 0};
      double same = 0;
      for (const auto& row : table.ratings) {
        if (row[a] < 0 || row[b] < 0) continue;
        contingency[static_cast<size_t>(row[a])][static_cast<size_t>(row[b])] += 1;
        ++pair.items;
        same += row[a] == row[b];
      }
      if (pair.items == 0) continue;  // never rated the same item: nothing to compare
      pair.percent = same / static_cast<double>(pair.items);
      pair.kappa = cohen_kappa(contingency);
      report.pairs.push_back(pair);
    }
  }

  for (size_t j = 0; j < labels; ++j) {
    LabelAgreement l;
    l.label = table.labels[j];
    double agreeing = 0, possible = 0;
    for (const auto& row : counts) {
      l.ratings += static_cast<int64_t>(row[j]);
      const double n = row_sum(row);
      if (n < 2) continue;
      agreeing += row[j] * (row[j] - 1);
      possible += row[j] * (n - 1);
    }
    l.kappa = fleiss_category_kappa(counts, j);
    l.specific_agreement = possible > 0 ? agreeing / possible : kNaN;
    const bool high = std::find(thresholds.high_stakes_labels.begin(), thresholds.high_stakes_labels.end(), l.label) !=
                      thresholds.high_stakes_labels.end();
    l.threshold = high ? thresholds.high_stakes : thresholds.routine;
    l.flagged = !(l.kappa >= l.threshold);
    report.labels.push_back(l);
  }
  return report;
}

std::string agreement_json(const AgreementReport& r) {
  nlohmann::ordered_json out;
  out["items"] = r.items;
  out["annotators"] = r.annotators;
  out["ratings"] = r.ratings;
  out["compared_items"] = r.compared_items;
  out["percent_agreement"] = number_or_null(r.percent_agreement);
  out["fleiss_kappa"] = number_or_null(r.fleiss_kappa);
  out["krippendorff_alpha"] = number_or_null(r.krippendorff_alpha);
  out["pairs"] = nlohmann::ordered_json::array();
  for (const auto& p : r.pairs) {
    out["pairs"].push_back({{"annotators", {p.first, p.second}},
                            {"items", p.items},
                            {"percent_agreement", number_or_null(p.percent)},
                            {"cohen_kappa", number_or_null(p.kappa)}});
  }
  out["labels"] = nlohmann::ordered_json::array();
  for (const auto& l : r.labels) {
    out["labels"].push_back({{"label", l.label},
                             {"ratings", l.ratings},
                             {"kappa", number_or_null(l.kappa)},
                             {"specific_agreement", number_or_null(l.specific_agreement)},
                             {"threshold", l.threshold},
                             {"flagged", l.flagged}});
  }
  out["disagreements"] = nlohmann::ordered_json::array();
  for (const auto& d : r.disagreements) {
    nlohmann::ordered_json ratings = nlohmann::ordered_json::object();
    for (const auto& [annotator, label] : d.ratings) ratings[annotator] = label;
    out["disagreements"].push_back({{"item", d.item}, {"agreement", d.agreement}, {"ratings", ratings}});
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string agreement_text(const AgreementReport& r) {
  std::string out = std::to_string(r.items) + " items, " + std::to_string(r.annotators) + " annotators, " +
                    std::to_string(r.ratings) + " ratings (" + std::to_string(r.compared_items) +
                    " items rated at least twice)\n";
  out += "percent agreement " + shown(r.percent_agreement) + "   Fleiss' kappa " + shown(r.fleiss_kappa) +
         "   Krippendorff's alpha (nominal) " + shown(r.krippendorff_alpha) + "\n\n";
  out += "Cohen's kappa by annotator pair:\n";
  for (const auto& p : r.pairs) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-16s %-16s %6lld items  agreement %-7s kappa %s\n", p.first.c_str(),
                  p.second.c_str(), static_cast<long long>(p.items), shown(p.percent).c_str(), shown(p.kappa).c_str());
    out += line;
  }
  out += "\nper label (Fleiss' per-category kappa):\n";
  int flagged = 0;
  for (const auto& l : r.labels) {
    char line[256];
    std::snprintf(line, sizeof line, "  %-20s %6lld ratings  kappa %-9s specific agreement %-7s threshold %s%s\n",
                  l.label.c_str(), static_cast<long long>(l.ratings), shown(l.kappa).c_str(),
                  shown(l.specific_agreement).c_str(), shown(l.threshold).c_str(), l.flagged ? "  FLAGGED" : "");
    out += line;
    flagged += l.flagged;
  }
  out += "\n" + std::to_string(r.disagreements.size()) + " item(s) with disagreement";
  out += r.disagreements.empty() ? "\n" : " (lowest agreement first):\n";
  for (size_t i = 0; i < r.disagreements.size() && i < 20; ++i) {
    const auto& d = r.disagreements[i];
    out += "  " + d.item + ":";
    for (const auto& [annotator, label] : d.ratings) out += " " + annotator + "=" + label;
    out += "\n";
  }
  if (r.disagreements.size() > 20) out += "  ... (all of them with --json)\n";
  if (flagged > 0) out += std::to_string(flagged) + " label(s) below their agreement threshold\n";
  return out;
}

}  // namespace stratum::data
