#pragma once
// Inline SVG charts for the run report: line charts with nice axis ticks and event markers,
// and a count heatmap for confusion matrices. Plain strings in, plain SVG out, no scripts, so
// the report renders offline in any browser.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace stratum::report {

/// One named line of (x, y) points.
struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

/// A vertical marker at `x` (e.g. a drift alert), labelled on hover.
struct Marker {
  double x = 0;
  std::string label;
};

/// What a line chart shows.
struct LineChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<Series> series;
  std::vector<Marker> markers;
  bool log_y = false;  ///< logarithmic y axis (positive values only)
};

/// An <svg> element; a chart without points says so instead of drawing empty axes.
std::string render_line_chart(const LineChart& chart);

/// An <svg> heatmap of `counts[row][column]` (true label by predicted label), each cell shaded by
/// its share of the row and printed with its count.
std::string render_heatmap(const std::vector<std::vector<int64_t>>& counts, const std::vector<std::string>& labels,
                           const std::string& title);

/// A small inline <svg> bar for a table cell: `value` as a bar on [0, `scale`] with its
/// interval [`low`, `high`] as a whisker (none when low == high == 0); red when `alert`.
std::string render_interval_bar(double value, double low, double high, double scale, bool alert);

/// The CSS of Stratum's HTML pages (report.html, compare.html).
const char* page_style();

/// Text safe inside HTML / SVG elements and attribute values.
std::string escape_html(const std::string& text);

/// Tick positions covering [low, high] at a 1, 2 or 5 times 10^k spacing, about `target` of them.
std::vector<double> nice_ticks(double low, double high, int target);

/// The i-th colour of a palette readable on white (cycles after 10).
const char* series_colour(size_t i);

}  // namespace stratum::report
