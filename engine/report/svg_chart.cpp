#include "engine/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace stratum::report {
namespace {

constexpr double kWidth = 640, kHeight = 300;
constexpr double kLeft = 64, kRight = 16, kTop = 28, kBottom = 44;
constexpr size_t kMaxDottedPoints = 40;

std::string number(double v) {
  char buf[32];
  const double a = std::fabs(v);
  if (a < 1e7 && v == std::round(v)) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else if (a != 0 && (a >= 1e5 || a < 1e-3)) {
    std::snprintf(buf, sizeof buf, "%.2g", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

std::string coordinate(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

std::string escape_html(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::vector<double> nice_ticks(double low, double high, int target) {
  if (!(high > low) || !std::isfinite(low) || !std::isfinite(high)) return {low};
  const double raw = (high - low) / std::max(1, target);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  // The 1-2-5 step nearest the raw spacing (on a log scale).
  double step = magnitude;
  for (double m : {2.0, 5.0, 10.0}) {
    if (std::fabs(std::log(m * magnitude / raw)) < std::fabs(std::log(step / raw))) step = m * magnitude;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(low / step) * step; t <= high + step * 1e-9; t += step) {
    ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

const char* series_colour(size_t i) {
  static const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return palette[i % 10];
}

std::string render_line_chart(const LineChart& chart) {
  double x0 = std::numeric_limits<double>::infinity(), x1 = -x0, y0 = x0, y1 = -x0;
  const auto y_of = [&](double y) { return chart.log_y ? std::log10(y) : y; };
  size_t points = 0;
  for (const Series& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (chart.log_y && y <= 0)) continue;
      x0 = std::min(x0, x), x1 = std::max(x1, x);
      y0 = std::min(y0, y_of(y)), y1 = std::max(y1, y_of(y));
      ++points;
    }
  }
  // The legend sits right of the title when it fits there, else in rows under the chart.
  struct LegendItem {
    double x, y;
  };
  std::vector<LegendItem> legend;
  double height = kHeight;
  if (chart.series.size() > 1) {
    const auto width_of = [&](size_t i) { return 14 + 6.5 * static_cast<double>(chart.series[i].name.size()); };
    double total = 0;
    for (size_t i = 0; i < chart.series.size(); ++i) total += width_of(i);
    const double free = kWidth - kRight - (kLeft + 7.5 * static_cast<double>(chart.title.size()) + 10);
    if (total <= free) {
      double x = kWidth - kRight - total;
      for (size_t i = 0; i < chart.series.size(); ++i) legend.push_back({x, 10}), x += width_of(i);
    } else {
      double x = kLeft, y = kHeight + 2;
      for (size_t i = 0; i < chart.series.size(); ++i) {
        if (x > kLeft && x + width_of(i) > kWidth - kRight) x = kLeft, y += 16;
        legend.push_back({x, y});
        x += width_of(i);
      }
      height = y + 18;
    }
  }
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 " + coordinate(kWidth) +
                    " " + coordinate(height) + "\" role=\"img\" aria-label=\"" + escape_html(chart.title) + "\">";
  svg += "<text x=\"" + coordinate(kLeft) + "\" y=\"18\" class=\"title\">" + escape_html(chart.title) + "</text>";
  if (points == 0) {
    return svg + "<text x=\"" + coordinate(kWidth / 2) +
           "\" y=\"150\" text-anchor=\"middle\" class=\"empty\">no data recorded</text></svg>";
  }
  if (x1 == x0) x0 -= 1, x1 += 1;
  if (y1 == y0) {
    const double pad = std::max(std::fabs(y0) * 0.05, 1e-6);
    y0 -= pad, y1 += pad;
  }
  const double pw = kWidth - kLeft - kRight, ph = kHeight - kTop - kBottom;
  const auto px = [&](double x) { return kLeft + (x - x0) / (x1 - x0) * pw; };
  const auto py = [&](double y) { return kTop + ph - (y - y0) / (y1 - y0) * ph; };

  // Grid and ticks.
  for (double t : nice_ticks(y0, y1, 5)) {
    const std::string y = coordinate(py(t));
    svg += "<line x1=\"" + coordinate(kLeft) + "\" x2=\"" + coordinate(kLeft + pw) + "\" y1=\"" + y + "\" y2=\"" + y +
           "\" class=\"grid\"/>";
    svg += "<text x=\"" + coordinate(kLeft - 6) + "\" y=\"" + y + "\" dy=\"4\" text-anchor=\"end\" class=\"tick\">" +
           number(chart.log_y ? std::pow(10.0, t) : t) + "</text>";
  }
  for (double t : nice_ticks(x0, x1, 6)) {
    const std::string x = coordinate(px(t));
    svg += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + coordinate(kTop + ph) + "\" y2=\"" +
           coordinate(kTop + ph + 4) + "\" class=\"axis\"/>";
    svg += "<text x=\"" + x + "\" y=\"" + coordinate(kTop + ph + 16) + "\" text-anchor=\"middle\" class=\"tick\">" +
           number(t) + "</text>";
  }
  svg += "<rect x=\"" + coordinate(kLeft) + "\" y=\"" + coordinate(kTop) + "\" width=\"" + coordinate(pw) +
         "\" height=\"" + coordinate(ph) + "\" class=\"frame\"/>";
  svg += "<text x=\"" + coordinate(kLeft + pw / 2) + "\" y=\"" + coordinate(kHeight - 6) +
         "\" text-anchor=\"middle\" class=\"label\">" + escape_html(chart.x_label) + "</text>";
  svg += "<text transform=\"translate(14 " + coordinate(kTop + ph / 2) +
         ") rotate(-90)\" text-anchor=\"middle\" class=\"label\">" + escape_html(chart.y_label) +
         (chart.log_y ? " (log)" : "") + "</text>";

  for (const Marker& m : chart.markers) {
    if (m.x < x0 || m.x > x1) continue;
    const std::string x = coordinate(px(m.x));
    svg += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + coordinate(kTop) + "\" y2=\"" + coordinate(kTop + ph) +
           "\" class=\"marker\"><title>" + escape_html(m.label) + "</title></line>";
  }
  for (size_t i = 0; i < chart.series.size(); ++i) {
    std::string path;
    for (const auto& [x, y] : chart.series[i].points) {
      if (!std::isfinite(x) || !std::isfinite(y) || (chart.log_y && y <= 0)) continue;
      path += (path.empty() ? "M" : " L") + coordinate(px(x)) + " " + coordinate(py(y_of(y)));
    }
    svg += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + series_colour(i) +
           "\" stroke-width=\"1.6\"><title>" + escape_html(chart.series[i].name) + "</title></path>";
    // Sparse series (e.g. evaluations) also get dots, so a single point is visible.
    if (chart.series[i].points.size() <= kMaxDottedPoints) {
      for (const auto& [x, y] : chart.series[i].points) {
        if (!std::isfinite(x) || !std::isfinite(y) || (chart.log_y && y <= 0)) continue;
        svg += "<circle cx=\"" + coordinate(px(x)) + "\" cy=\"" + coordinate(py(y_of(y))) + "\" r=\"3\" fill=\"" +
               series_colour(i) + "\"><title>" + escape_html(chart.series[i].name + ": " + number(y) + " at " + number(x)) +
               "</title></circle>";
      }
    }
  }
  for (size_t i = 0; i < legend.size(); ++i) {
    svg += "<rect x=\"" + coordinate(legend[i].x) + "\" y=\"" + coordinate(legend[i].y) +
           "\" width=\"10\" height=\"10\" fill=\"" + series_colour(i) + "\"/><text x=\"" + coordinate(legend[i].x + 13) +
           "\" y=\"" + coordinate(legend[i].y + 9) + "\" class=\"legend\">" + escape_html(chart.series[i].name) + "</text>";
  }
  return svg + "</svg>";
}

std::string render_interval_bar(double value, double low, double high, double scale, bool alert) {
  constexpr double kWidth = 160, kHeight = 14;
  const auto x = [&](double v) {
    return std::isfinite(v) && scale > 0 ? std::clamp(v / scale, 0.0, 1.0) * kWidth : 0.0;
  };
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"bar\" width=\"" + coordinate(kWidth) +
                    "\" height=\"" + coordinate(kHeight) + "\" role=\"img\">";
  svg += "<rect x=\"0\" y=\"2\" width=\"" + coordinate(x(value)) + "\" height=\"10\" fill=\"" +
         (alert ? "#d62728" : "#4c78a8") + "\"/>";
  if (low != 0 || high != 0) {
    svg += "<line x1=\"" + coordinate(x(low)) + "\" x2=\"" + coordinate(x(high)) +
           "\" y1=\"7\" y2=\"7\" stroke=\"#222\" stroke-width=\"1.2\"/>";
    for (const double end : {low, high}) {
      svg += "<line x1=\"" + coordinate(x(end)) + "\" x2=\"" + coordinate(x(end)) +
             "\" y1=\"3\" y2=\"11\" stroke=\"#222\" stroke-width=\"1.2\"/>";
    }
  }
  return svg + "</svg>";
}

std::string render_heatmap(const std::vector<std::vector<int64_t>>& counts, const std::vector<std::string>& labels,
                           const std::string& title) {
  const size_t n = counts.size();
  const double cell = n <= 10 ? 40 : std::max(12.0, 400.0 / static_cast<double>(n));
  const double left = 110, top = 40;
  const double width = left + cell * static_cast<double>(n) + 10, height = top + cell * static_cast<double>(n) + 110;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"heatmap\" viewBox=\"0 0 " + coordinate(width) +
                    " " + coordinate(height) + "\" style=\"max-width:" + coordinate(width) + "px\" role=\"img\">";
  svg += "<text x=\"4\" y=\"18\" class=\"title\">" + escape_html(title) + "</text>";
  const auto label = [&](size_t i) { return i < labels.size() ? labels[i] : std::to_string(i); };
  for (size_t r = 0; r < n; ++r) {
    int64_t row_total = 0;
    for (int64_t c : counts[r]) row_total += c;
    const double y = top + cell * static_cast<double>(r);
    svg += "<text x=\"" + coordinate(left - 6) + "\" y=\"" + coordinate(y + cell / 2 + 4) +
           "\" text-anchor=\"end\" class=\"tick\">" + escape_html(label(r)) + "</text>";
    for (size_t c = 0; c < n && c < counts[r].size(); ++c) {
      const double share = row_total > 0 ? static_cast<double>(counts[r][c]) / static_cast<double>(row_total) : 0;
      const double x = left + cell * static_cast<double>(c);
      char fill[32];
      // White to deep blue by the share of the true label's examples.
      std::snprintf(fill, sizeof fill, "rgb(%d,%d,%d)", static_cast<int>(255 - 224 * share),
                    static_cast<int>(255 - 136 * share), static_cast<int>(255 - 75 * share));
      svg += "<rect x=\"" + coordinate(x) + "\" y=\"" + coordinate(y) + "\" width=\"" + coordinate(cell) +
             "\" height=\"" + coordinate(cell) + "\" fill=\"" + fill + "\" class=\"cell\"><title>" +
             escape_html(label(r) + " predicted as " + label(c) + ": " + std::to_string(counts[r][c])) +
             "</title></rect>";
      if (cell >= 28) {
        svg += "<text x=\"" + coordinate(x + cell / 2) + "\" y=\"" + coordinate(y + cell / 2 + 4) +
               "\" text-anchor=\"middle\" class=\"count" + (share > 0.5 ? " light" : "") + "\">" +
               std::to_string(counts[r][c]) + "</text>";
      }
    }
  }
  for (size_t c = 0; c < n; ++c) {
    const double x = left + cell * (static_cast<double>(c) + 0.5);
    const double y = top + cell * static_cast<double>(n) + 8;
    svg += "<text transform=\"translate(" + coordinate(x + 4) + " " + coordinate(y) +
           ") rotate(-50)\" text-anchor=\"end\" class=\"tick\">" + escape_html(label(c)) + "</text>";
  }
  svg += "<text x=\"" + coordinate(left) + "\" y=\"" + coordinate(height - 4) +
         "\" class=\"label\">rows: true label, columns: predicted</text>";
  return svg + "</svg>";
}

const char* page_style() {
  return R"(
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:1340px;color:#222;padding:0 16px}
h1{font-size:22px;margin-bottom:4px}h2{border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
.grid{display:flex;flex-wrap:wrap;gap:12px}.chart{width:640px;max-width:100%;background:#fff}
.heatmap{width:100%;background:#fff}.grid>.heatmap{flex:1 1 420px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
th{background:#f4f6f8}td:first-child,th:first-child{text-align:left}
.title{font-weight:600;font-size:13px}.tick{font-size:10px;fill:#555}.label{font-size:11px;fill:#333}
.legend{font-size:10px}.grid line.grid,line.grid{stroke:#eee}.axis{stroke:#999}.frame{fill:none;stroke:#bbb}
.marker{stroke:#d62728;stroke-dasharray:4 3;stroke-width:1.2}.empty{fill:#999}
.count{font-size:11px;fill:#222}.count.light{fill:#fff}.note{color:#777}pre{background:#f7f7f7;padding:8px;overflow:auto}
)";
}

}  // namespace stratum::report
