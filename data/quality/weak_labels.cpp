#include "data/quality/weak_labels.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.h"
#include "data/quality/labeled_file.h"

namespace stratum::data {
namespace {

bool is_abstention(const std::string& v) { return v.empty() || v == "abstain" || v == "ABSTAIN" || v == "-1"; }

// The label with the highest score, or -1 when no label scores or the best is tied.
int32_t argmax_unique(const std::vector<double>& scores, bool any) {
  if (!any) return -1;
  int32_t best = 0;
  bool tie = false;
  for (size_t k = 1; k < scores.size(); ++k) {
    if (scores[k] > scores[static_cast<size_t>(best)]) {
      best = static_cast<int32_t>(k);
      tie = false;
    } else if (scores[k] == scores[static_cast<size_t>(best)]) {
      tie = true;
    }
  }
  return tie ? -1 : best;
}

// Weighted vote of one item, leaving out function `skip` (-1: none). Returns the label or -1.
int32_t weighted_vote(const std::vector<int32_t>& row, const std::vector<double>& weight, size_t labels, int64_t skip,
                      std::vector<double>& scores) {
  scores.assign(labels, 0.0);
  bool any = false;
  for (size_t f = 0; f < row.size(); ++f) {
    if (row[f] < 0 || static_cast<int64_t>(f) == skip) continue;
    scores[static_cast<size_t>(row[f])] += weight[f];
    any = true;
  }
  return argmax_unique(scores, any);
}

}  // namespace

VoteTable read_votes(const std::string& path, const std::string& item_column) {
  const CsvTable table = read_table_file(path);
  const size_t item = table.column(item_column, path);
  if (table.header.size() < 2) throw UserError(path + ":1: no labeling-function columns besides \"" + item_column + "\"");
  if (table.rows.empty()) throw UserError(path + ": no votes (the file has no data rows)");
  VoteTable votes;
  for (size_t c = 0; c < table.header.size(); ++c) {
    if (c != item) votes.functions.push_back(table.header[c]);
  }
  std::map<std::string, int32_t> label_index;
  for (const CsvRow& row : table.rows) {
    for (size_t c = 0; c < row.fields.size(); ++c) {
      if (c != item && !is_abstention(row.fields[c])) label_index.emplace(row.fields[c], 0);
    }
  }
  if (label_index.empty()) throw UserError(path + ": every labeling function abstained on every item");
  for (auto& [name, id] : label_index) {
    id = static_cast<int32_t>(votes.labels.size());
    votes.labels.push_back(name);
  }
  std::map<std::string, int64_t> first_row;
  for (const CsvRow& row : table.rows) {
    const std::string& id = row.fields[item];
    const std::string where = path + ":" + std::to_string(row.line) + ": ";
    if (id.empty()) throw UserError(where + "empty " + item_column);
    if (!first_row.emplace(id, row.line).second) {
      throw UserError(where + "item \"" + id + "\" again (first at row " + std::to_string(first_row[id]) + ")");
    }
    std::vector<int32_t> cast;
    for (size_t c = 0; c < row.fields.size(); ++c) {
      if (c != item) cast.push_back(is_abstention(row.fields[c]) ? -1 : label_index.at(row.fields[c]));
    }
    votes.items.push_back(id);
    votes.votes.push_back(std::move(cast));
  }
  return votes;
}

WeakLabelResult combine_votes(const VoteTable& votes, VoteMethod method, int iterations) {
  const size_t items = votes.items.size(), functions = votes.functions.size(), labels = votes.labels.size();
  WeakLabelResult result;
  result.weight.assign(functions, 1.0);
  result.accuracy.assign(functions, 0.0);
  result.coverage.assign(functions, 0.0);
  for (const auto& row : votes.votes) {
    for (size_t f = 0; f < functions; ++f) result.coverage[f] += row[f] >= 0;
  }
  for (double& c : result.coverage) c /= static_cast<double>(std::max<size_t>(1, items));

  // Accuracy of each function against the others' (weighted) consensus, Laplace-smoothed so a
  // function with little overlap is neither trusted nor distrusted absolutely.
  std::vector<double> scores;
  const auto estimate_accuracy = [&]() {
    for (size_t f = 0; f < functions; ++f) {
      double agree = 0, compared = 0;
      for (const auto& row : votes.votes) {
        if (row[f] < 0) continue;
        const int32_t others = weighted_vote(row, result.weight, labels, static_cast<int64_t>(f), scores);
        if (others < 0) continue;
        compared += 1;
        agree += others == row[f];
      }
      result.accuracy[f] = (agree + 1) / (compared + 2);
    }
  };
  estimate_accuracy();  // with unit weights: agreement with the others' majority
  if (method == VoteMethod::weighted) {
    const double k = static_cast<double>(std::max<size_t>(2, labels));
    for (int round = 0; round < iterations; ++round) {
      for (size_t f = 0; f < functions; ++f) {
        const double a = std::clamp(result.accuracy[f], 1e-3, 1 - 1e-3);
        result.weight[f] = std::log(a * (k - 1) / (1 - a));
      }
      estimate_accuracy();
    }
  }

  result.labels.resize(items);
  for (size_t i = 0; i < items; ++i) {
    const auto& row = votes.votes[i];
    WeakLabel& out = result.labels[i];
    for (int32_t v : row) out.votes += v >= 0;
    if (out.votes == 0) {
      ++result.abstained;
      continue;
    }
    out.label = weighted_vote(row, result.weight, labels, -1, scores);
    if (out.label < 0) {
      ++result.ties;
      continue;
    }
    if (method == VoteMethod::majority) {
      out.confidence = scores[static_cast<size_t>(out.label)] / static_cast<double>(out.votes);
    } else {
      // Posterior under independent voters: softmax of the summed weights over all labels.
      const double top = *std::max_element(scores.begin(), scores.end());
      double total = 0;
      for (double s : scores) total += std::exp(s - top);
      out.confidence = 1.0 / total;
    }
  }
  return result;
}

}  // namespace stratum::data
