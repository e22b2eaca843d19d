#include "engine/experiments/lr_range_test.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text.h"
#include "engine/report/svg_chart.h"

namespace stratum::experiments {

std::vector<RangeTestPoint> read_range_test(const std::string& metrics_path) {
  std::ifstream in(metrics_path);
  if (!in) throw UserError(metrics_path + ": cannot open");
  std::vector<RangeTestPoint> points;
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json r = nlohmann::json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("kind") || r["kind"] != "train" || !r.contains("lr")) continue;
    const double lr = r["lr"].is_number() ? r["lr"].get<double>() : std::nan("");
    const double loss = r.contains("loss") && r["loss"].is_number() ? r["loss"].get<double>() : std::nan("");
    if (std::isfinite(lr) && lr > 0) points.push_back({lr, loss});
  }
  return points;
}

RangeTestResult analyse_range_test(const std::vector<RangeTestPoint>& points, double beta) {
  RangeTestResult result;
  result.points = points;
  double average = 0;
  int64_t n = 0;
  for (const RangeTestPoint& p : points) {
    if (!std::isfinite(p.loss)) break;  // diverged: nothing after it means anything
    ++n;
    average = beta * average + (1 - beta) * p.loss;
    result.smoothed.push_back({p.lr, average / (1 - std::pow(beta, static_cast<double>(n)))});
  }
  const auto& s = result.smoothed;
  if (s.size() < 5) {
    throw UserError("lr-find: only " + std::to_string(s.size()) + " steps with a finite loss; run more --steps or "
                    "lower --min-lr");
  }
  size_t lowest = 0;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i].loss < s[lowest].loss) lowest = i;
  }
  result.min_loss_lr = s[lowest].lr;
  // Steepest descent over a window of a few steps (single-step slopes are noise), skipping
  // the first tenth, where the moving average is still settling.
  const size_t skip = std::max<size_t>(1, s.size() / 10), span = std::max<size_t>(1, s.size() / 20);
  double best_slope = 0;
  result.steepest_lr = s[lowest].lr / 10;  // the rule of thumb when the loss never clearly falls
  for (size_t i = skip; i + span <= lowest; ++i) {
    const double slope = (s[i + span].loss - s[i].loss) / (std::log(s[i + span].lr) - std::log(s[i].lr));
    if (slope < best_slope) {
      best_slope = slope;
      result.steepest_lr = std::sqrt(s[i].lr * s[i + span].lr);
    }
  }
  result.suggested_lr = result.steepest_lr;
  return result;
}

std::string range_test_svg(const RangeTestResult& result) {
  report::Series raw{"loss", {}}, smooth{"smoothed loss", {}};
  for (const RangeTestPoint& p : result.points) {
    if (std::isfinite(p.loss)) raw.points.emplace_back(std::log10(p.lr), p.loss);
  }
  for (const RangeTestPoint& p : result.smoothed) smooth.points.emplace_back(std::log10(p.lr), p.loss);
  const std::string svg = report::render_line_chart(
      {"Learning-rate range test (suggested " + format_number(result.suggested_lr) + ")", "log10 learning rate", "loss",
       {raw, smooth},
       {{std::log10(result.suggested_lr), "suggested " + format_number(result.suggested_lr)},
        {std::log10(result.min_loss_lr), "lowest loss at " + format_number(result.min_loss_lr)}},
       false});
  // A file of its own carries the page's style inside the <svg>.
  const size_t open_end = svg.find('>');
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg.substr(0, open_end + 1) + "<style>" +
         report::page_style() + "</style>" + svg.substr(open_end + 1) + "\n";
}

}  // namespace stratum::experiments
