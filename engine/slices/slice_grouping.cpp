#include "engine/slices/slice_grouping.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "core/error.h"
#include "core/text.h"
#include "data/tensor_dataset.h"

namespace stratum {
namespace {

enum class Dimension { source, label, time, feature, field };

struct ParsedDimension {
  Dimension kind = Dimension::field;
  int64_t feature = -1;  // feature:N
  std::string name;      // as written
};

std::optional<ParsedDimension> parse_dimension(const std::string& text) {
  ParsedDimension d;
  d.name = text;
  if (text.empty()) return std::nullopt;
  if (text == "source") d.kind = Dimension::source;
  else if (text == "label") d.kind = Dimension::label;
  else if (text == "time") d.kind = Dimension::time;
  else if (text.rfind("feature:", 0) == 0) {
    const std::string digits = text.substr(8);
    if (digits.empty() || digits.size() > 6 ||
        !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c) != 0; })) {
      return std::nullopt;
    }
    d.kind = Dimension::feature;
    d.feature = std::stoll(digits);
  }
  return d;
}

bool numeric(Dimension kind) { return kind == Dimension::time || kind == Dimension::feature || kind == Dimension::field; }

// A bucket width: a number with s, m, h, d or w (seconds of UTC time: buckets named by date), or
// a plain number of time units.
struct Width {
  double seconds = 0;
  bool calendar = false;
};

std::optional<Width> parse_width(const std::string& text) {
  if (text.empty()) return std::nullopt;
  Width w;
  double unit = 1;
  std::string number = text;
  const char last = text.back();
  if (std::string("smhdw").find(last) != std::string::npos) {
    unit = last == 's' ? 1 : last == 'm' ? 60 : last == 'h' ? 3600 : last == 'd' ? 86400 : 604800;
    number = text.substr(0, text.size() - 1);
    w.calendar = true;
  }
  char* end = nullptr;
  const double v = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !std::isfinite(v) || v <= 0) return std::nullopt;
  w.seconds = v * unit;
  return w;
}

std::string utc_label(double start, double width) {
  const double limit = 253402300799.0;  // 9999-12-31T23:59:59Z
  if (!(start >= -limit && start <= limit)) return format_number(start);
  const auto t = static_cast<std::time_t>(start);
  std::tm tm{};
  if (!gmtime_r(&t, &tm)) return format_number(start);
  char text[32];
  const char* format = std::fmod(width, 86400) == 0 ? "%Y-%m-%d" : std::fmod(width, 60) == 0 ? "%Y-%m-%dT%H:%MZ"
                                                                                                : "%Y-%m-%dT%H:%M:%SZ";
  std::strftime(text, sizeof text, format, &tm);
  return text;
}

std::string range_label(double low, double high, bool closed) {
  return "[" + format_number(low) + ", " + format_number(high) + (closed ? "]" : ")");
}

constexpr const char* kMissing = "(missing)";
constexpr double kLast = std::numeric_limits<double>::infinity();

// One dimension's value for one example: a category (order NaN: sorted by name) or a bucket
// (ordered by `order`).
struct Cell {
  double order = std::nan("");
  std::string name;
};

// A JSON field's value as written (string content, or JSON text), and as a number when it is one.
struct FieldValue {
  bool present = false;
  std::string text;
  std::optional<double> number;
};

FieldValue decode_field(const std::string& json_text) {
  FieldValue v;
  if (json_text.empty()) return v;
  v.present = true;
  const nlohmann::json value = nlohmann::json::parse(json_text, nullptr, false);
  if (value.is_string()) {
    v.text = value.get<std::string>();
    char* end = nullptr;
    const double d = std::strtod(v.text.c_str(), &end);
    if (!v.text.empty() && *end == '\0' && std::isfinite(d)) v.number = d;
  } else {
    v.text = json_text;
    if (value.is_number()) v.number = value.get<double>();
  }
  return v;
}

class DimensionCells {
 public:
  DimensionCells(const ParsedDimension& dim, const SliceOptions& slice, const std::string& key, const SliceFacts& facts,
                 const std::vector<int64_t>& examples)
      : dim_(dim), slice_(slice), key_(key), facts_(facts), examples_(examples) {}

  std::vector<Cell> cells() {
    const data::TensorDataset& d = *facts_.dataset;
    std::vector<Cell> out(examples_.size());
    switch (dim_.kind) {
      case Dimension::source: {
        if (d.origins.size() != static_cast<size_t>(d.size())) fail("by: source: these examples carry no origins (token shards)");
        for (size_t i = 0; i < examples_.size(); ++i) {
          const uint32_t s = d.origins[static_cast<size_t>(examples_[i])].source;
          out[i].name = s < facts_.source_names.size() ? facts_.source_names[s] : "#" + std::to_string(s);
        }
        return out;
      }
      case Dimension::label: {
        if (!d.targets.defined() || d.targets.dim() != 1 || d.targets.scalar_type() != torch::kInt64) {
          fail("by: label: these examples have no single class label (a language model's data)");
        }
        const auto* ids = d.targets.data_ptr<int64_t>();
        for (size_t i = 0; i < examples_.size(); ++i) {
          const int64_t id = ids[examples_[i]];
          out[i].name = id >= 0 && static_cast<size_t>(id) < facts_.class_names.size() ? facts_.class_names[static_cast<size_t>(id)]
                        : id < 0 ? "(none)" : std::to_string(id);
        }
        return out;
      }
      default:
        break;
    }
    // Numeric (or, for fields without bins and buckets, categorical) values.
    std::vector<std::optional<double>> numbers(examples_.size());
    const bool categorical = dim_.kind == Dimension::field && slice_.bins.empty() && slice_.buckets == 0;
    if (dim_.kind == Dimension::time) {
      if (d.times.size() != static_cast<size_t>(d.size())) fail("by: time: these examples carry no record times (token shards)");
      for (size_t i = 0; i < examples_.size(); ++i) numbers[i] = d.times[static_cast<size_t>(examples_[i])];
    } else if (dim_.kind == Dimension::feature) {
      if (!d.inputs.defined() || d.inputs.dim() != 2 || !d.inputs.is_floating_point()) {
        fail("by: " + dim_.name + ": the inputs are not feature vectors");
      }
      const int64_t width = d.inputs.size(1);
      if (dim_.feature >= width) {
        fail("by: " + dim_.name + ": the examples have " + std::to_string(width) + " features (feature:0 to feature:" +
             std::to_string(width - 1) + ")");
      }
      const torch::Tensor column = d.inputs.select(1, dim_.feature).to(torch::kFloat64).contiguous();
      const auto* x = column.data_ptr<double>();
      const auto f = static_cast<size_t>(dim_.feature);
      const double scale = f < facts_.feature_std.size() ? facts_.feature_std[f] : 1.0;
      const double shift = f < facts_.feature_mean.size() ? facts_.feature_mean[f] : 0.0;
      for (size_t i = 0; i < examples_.size(); ++i) numbers[i] = x[examples_[i]] * scale + shift;
    } else {
      const auto at = std::find(facts_.fields.begin(), facts_.fields.end(), dim_.name);
      const auto column = static_cast<size_t>(at - facts_.fields.begin());
      const bool carried = d.fields.size() == static_cast<size_t>(d.size());
      for (size_t i = 0; i < examples_.size(); ++i) {
        const std::vector<std::string>* values = carried ? &d.fields[static_cast<size_t>(examples_[i])] : nullptr;
        const FieldValue v = decode_field(values && column < values->size() ? (*values)[column] : std::string());
        if (!v.present) {
          out[i] = {kLast, kMissing};
        } else if (categorical) {
          out[i].name = v.text;
        } else if (!v.number) {
          fail(std::string(slice_.bins.empty() ? "buckets" : "bins") + ": field \"" + dim_.name + "\" holds \"" +
               printable(v.text, 60) + "\", not a number");
        } else {
          numbers[i] = v.number;
        }
      }
      if (categorical) return out;
    }
    bucket(numbers, out);
    return out;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw UserError(key_ + "." + message); }

  void bucket(const std::vector<std::optional<double>>& numbers, std::vector<Cell>& out) const {
    if (dim_.kind == Dimension::time && !slice_.every.empty()) {
      const Width w = *parse_width(slice_.every);
      for (size_t i = 0; i < numbers.size(); ++i) {
        const double start = std::floor(*numbers[i] / w.seconds) * w.seconds;
        out[i] = {start, w.calendar ? utc_label(start, w.seconds) : range_label(start, start + w.seconds, false)};
      }
      return;
    }
    if (!slice_.bins.empty() && dim_.kind != Dimension::time) {
      const std::vector<double>& edges = slice_.bins;
      for (size_t i = 0; i < numbers.size(); ++i) {
        if (!numbers[i]) continue;
        const double v = *numbers[i];
        if (!(v >= edges.front() && v <= edges.back())) {
          fail("bins: " + dim_.name + " value " + format_number(v) + " lies outside the bins [" +
               format_number(edges.front()) + ", " + format_number(edges.back()) + "]");
        }
        const size_t b = std::min<size_t>(edges.size() - 2,
                                          static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), v) - edges.begin()) - 1);
        out[i] = {static_cast<double>(b), range_label(edges[b], edges[b + 1], b + 2 == edges.size())};
      }
      return;
    }
    // Equal-count buckets over this split's values: cut points at the k/N quantiles.
    std::vector<double> sorted;
    for (const auto& n : numbers) {
      if (n) sorted.push_back(*n);
    }
    if (sorted.empty()) return;
    std::sort(sorted.begin(), sorted.end());
    std::vector<double> cuts = {sorted.front()};
    const auto count = static_cast<int64_t>(sorted.size());
    for (int64_t k = 1; k < slice_.buckets; ++k) {
      const double cut = sorted[static_cast<size_t>(k * count / slice_.buckets)];
      if (cut > cuts.back()) cuts.push_back(cut);
    }
    for (size_t i = 0; i < numbers.size(); ++i) {
      if (!numbers[i]) continue;
      const size_t b = static_cast<size_t>(std::upper_bound(cuts.begin(), cuts.end(), *numbers[i]) - cuts.begin()) - 1;
      const bool last = b + 1 == cuts.size();
      out[i] = {static_cast<double>(b), range_label(cuts[b], last ? sorted.back() : cuts[b + 1], last)};
    }
  }

  const ParsedDimension& dim_;
  const SliceOptions& slice_;
  const std::string& key_;
  const SliceFacts& facts_;
  const std::vector<int64_t>& examples_;
};

bool cell_less(const Cell& a, const Cell& b) {
  const bool a_ordered = !std::isnan(a.order), b_ordered = !std::isnan(b.order);
  if (a_ordered != b_ordered) return a.name == kMissing ? false : b.name == kMissing ? true : a_ordered;
  if (a_ordered && a.order != b.order) return a.order < b.order;
  return a.name < b.name;
}

}  // namespace

std::string slice_name(const SliceOptions& slice) { return slice.name.empty() ? join(slice.by, " x ") : slice.name; }

std::vector<std::string> slice_fields(const std::vector<SliceOptions>& slices) {
  std::vector<std::string> out;
  for (const SliceOptions& slice : slices) {
    for (const std::string& by : slice.by) {
      const auto d = parse_dimension(by);
      if (d && d->kind == Dimension::field && std::find(out.begin(), out.end(), by) == out.end()) out.push_back(by);
    }
  }
  return out;
}

SliceGroups group_examples(const SliceOptions& slice, const std::string& key, const SliceFacts& facts,
                           const std::vector<int64_t>& examples, int64_t max_groups) {
  std::vector<std::vector<Cell>> columns;
  for (const std::string& by : slice.by) {
    const ParsedDimension dim = *parse_dimension(by);
    columns.push_back(DimensionCells(dim, slice, key, facts, examples).cells());
  }
  const auto less = [](const std::vector<Cell>& a, const std::vector<Cell>& b) {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), cell_less);
  };
  std::map<std::vector<Cell>, int32_t, decltype(less)> ids(less);
  std::vector<std::vector<Cell>> keys(examples.size());
  for (size_t i = 0; i < examples.size(); ++i) {
    for (const auto& column : columns) keys[i].push_back(column[i]);
    ids.emplace(keys[i], 0);
    if (static_cast<int64_t>(ids.size()) > max_groups) {
      throw UserError(key + ".by: " + join(slice.by, " x ") + " makes more than " + std::to_string(max_groups) +
                      " groups (eval.max_slices); slice a numeric field by bins or buckets, or choose a coarser field");
    }
  }
  SliceGroups groups;
  for (auto& [cells, id] : ids) {
    id = static_cast<int32_t>(groups.names.size());
    std::vector<std::string> parts;
    for (const Cell& c : cells) parts.push_back(c.name);
    groups.names.push_back(join(parts, " x "));
  }
  for (const auto& k : keys) groups.group_of.push_back(ids.at(k));
  return groups;
}

void check_slice_config(const RunConfig& config) {
  const EvalOptions& eval = config.eval;
  std::set<std::string> names;
  for (size_t i = 0; i < eval.slices.size(); ++i) {
    const SliceOptions& slice = eval.slices[i];
    const std::string key = "eval.slices[" + std::to_string(i) + "]";
    if (slice.by.empty() || slice.by.size() > 2) {
      config.fail(key + ".by", "expected one dimension or two to cross, got " + std::to_string(slice.by.size()));
    }
    std::vector<ParsedDimension> dims;
    for (const std::string& by : slice.by) {
      const auto d = parse_dimension(by);
      if (!d) {
        config.fail(key + ".by", "\"" + printable(by, 60) +
                                     "\" is not a dimension (source, label, time, feature:N or a JSON field name)");
      }
      dims.push_back(*d);
    }
    if (dims.size() == 2 && dims[0].name == dims[1].name) config.fail(key + ".by", "crosses " + dims[0].name + " with itself");
    const bool has_time = std::any_of(dims.begin(), dims.end(), [](const auto& d) { return d.kind == Dimension::time; });
    const bool has_binnable = std::any_of(dims.begin(), dims.end(), [](const auto& d) {
      return d.kind == Dimension::feature || d.kind == Dimension::field;
    });
    const bool has_numeric = std::any_of(dims.begin(), dims.end(), [](const auto& d) { return numeric(d.kind); });
    if (!slice.every.empty() && !has_time) config.fail(key + ".every", "applies to the time dimension only");
    if (!slice.every.empty() && !parse_width(slice.every)) {
      config.fail(key + ".every", "expected a positive width such as 45s, 30m, 6h, 1d, 2w or a number, got \"" +
                                      printable(slice.every, 40) + "\"");
    }
    if (has_time && slice.every.empty() && slice.buckets == 0) {
      config.fail(key, "slicing by time needs every (e.g. 1d) or buckets (N equal-count buckets)");
    }
    if (!slice.bins.empty()) {
      if (!has_binnable) config.fail(key + ".bins", "applies to a JSON field or feature:N only");
      if (slice.bins.size() < 2) config.fail(key + ".bins", "needs at least two edges");
      for (size_t b = 1; b < slice.bins.size(); ++b) {
        if (!(slice.bins[b] > slice.bins[b - 1])) config.fail(key + ".bins", "edges must be strictly ascending");
      }
    }
    const bool has_feature = std::any_of(dims.begin(), dims.end(), [](const auto& d) { return d.kind == Dimension::feature; });
    if (has_feature && slice.bins.empty() && slice.buckets == 0) {
      config.fail(key, "slicing by a feature needs bins (edges) or buckets (N equal-count buckets)");
    }
    if (slice.buckets == 1) config.fail(key + ".buckets", "one bucket is the whole split; use 2 or more");
    if (slice.buckets > 0 && !has_numeric) config.fail(key + ".buckets", "applies to time, feature:N or JSON fields");
    const std::string name = slice_name(slice);
    if (!names.insert(name).second) config.fail(key + ".name", "another slice is called \"" + printable(name, 60) + "\"");
  }

  const SliceAlertOptions& alert = eval.slice_alerts;
  const bool thresholds = alert.max_gap > 0 || alert.min_ratio > 0;
  if (alert.metric.empty()) {
    if (thresholds) config.fail("eval.slice_alerts.metric", "name the metric the thresholds apply to (e.g. accuracy)");
    return;
  }
  const std::vector<std::string> metrics = {"accuracy", "macro_f1", "loss", "ece", "perplexity"};
  if (std::find(metrics.begin(), metrics.end(), alert.metric) == metrics.end()) {
    config.fail("eval.slice_alerts.metric", "expected one of accuracy, macro_f1, loss, ece, perplexity, got \"" +
                                                printable(alert.metric, 40) + "\"" +
                                                (nearest(alert.metric, metrics).empty()
                                                     ? ""
                                                     : " (did you mean " + nearest(alert.metric, metrics) + "?)"));
  }
  if (!thresholds) config.fail("eval.slice_alerts", "set max_gap or min_ratio for the alert on " + alert.metric);
  if (eval.slices.empty()) config.fail("eval.slice_alerts", "alerts compare slices, but eval.slices is empty");
  for (const std::string& split : alert.splits) {
    if (split != "seen" && split != "validation" && split != "unseen") {
      config.fail("eval.slice_alerts.splits", "expected seen, validation or unseen, got \"" + printable(split, 40) + "\"");
    }
  }
}

}  // namespace stratum
