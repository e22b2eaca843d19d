#include "engine/report/run_report.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/read_file.h"
#include "engine/report/svg_chart.h"
#include "engine/run_dir.h"
#include "core/text.h"
#include "core/version.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace stratum::report {
namespace {

constexpr size_t kMaxDriftRows = 60;

std::string read_text(const fs::path& path) { return read_file(path.string()).value_or(""); }

// A JSON file, or null when it is missing or unreadable (the report shows what there is).
json read_json(const fs::path& path) {
  if (!fs::is_regular_file(path)) return nullptr;
  json j = json::parse(read_text(path), nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json(nullptr) : j;
}

double number_or_nan(const json& j, const char* key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : std::nan("");
}

// A text field, or `fallback` when it is absent or not text (a hand-edited file).
std::string text_or(const json& j, const char* key, const std::string& fallback) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : fallback;
}

std::string cell(const json& j, const char* key) {
  const double v = number_or_nan(j, key);
  return std::isnan(v) ? "–" : format_number(v);
}

// Item `i` of a JSON array of numbers, formatted ("–" when absent).
std::string item(const json& a, size_t i) {
  return a.is_array() && i < a.size() && a[i].is_number() ? format_number(a[i].get<double>()) : "–";
}

// What metrics.jsonl recorded, sorted into the series the report draws.
struct Metrics {
  Series loss{"training loss", {}}, lr{"learning rate", {}}, throughput{"throughput", {}}, loss_scale{"loss scale", {}};
  std::map<std::string, Series> eval_loss, eval_score;  // split -> series
  std::string score_name = "accuracy";
  std::vector<json> drift;
  std::vector<json> slice_alerts;  // "slice_alert" events of every evaluation
  std::vector<json> samples;  // "sample" records: text generated during training
  Series prequential_accuracy{"accuracy", {}}, prequential_f1{"macro-F1", {}};  // continuous runs
  std::vector<json> promotions;  // "promotion" and "promotion_refused" events
  json last_train;            // the last "train" record (a mix's achieved shares)
  int64_t unreadable = 0;
};

Metrics read_metrics(const fs::path& path) {
  Metrics m;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const json r = json::parse(line, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("kind")) {
      ++m.unreadable;
      continue;
    }
    const std::string kind = r.value("kind", "");
    const double step = number_or_nan(r, "step");
    if (kind == "train") {
      m.loss.points.emplace_back(step, number_or_nan(r, "loss"));
      m.lr.points.emplace_back(step, number_or_nan(r, "lr"));
      m.throughput.points.emplace_back(step, number_or_nan(r, "samples_per_second"));
      if (r.contains("loss_scale")) m.loss_scale.points.emplace_back(step, number_or_nan(r, "loss_scale"));
      m.last_train = r;
    } else if (kind == "eval") {
      const std::string split = r.value("split", "?");
      m.eval_loss[split].name = split;
      m.eval_loss[split].points.emplace_back(step, number_or_nan(r, "loss"));
      if (r.contains("perplexity")) m.score_name = "perplexity";
      m.eval_score[split].name = split;
      m.eval_score[split].points.emplace_back(step, number_or_nan(r, m.score_name.c_str()));
    } else if (kind == "event" && r.value("event", "") == "drift") {
      m.drift.push_back(r);
    } else if (kind == "event" && r.value("event", "") == "slice_alert") {
      m.slice_alerts.push_back(r);
    } else if (kind == "sample") {
      m.samples.push_back(r);
    } else if (kind == "prequential") {
      const double record = number_or_nan(r, "records");
      m.prequential_accuracy.points.emplace_back(record, number_or_nan(r, "accuracy"));
      m.prequential_f1.points.emplace_back(record, number_or_nan(r, "macro_f1"));
    } else if (kind == "event" && r.value("event", "").rfind("promotion", 0) == 0) {
      m.promotions.push_back(r);
    }
  }
  return m;
}

// The text a language model generated during training (logging.sample_every), latest first.
std::string samples_section(const Metrics& m) {
  if (m.samples.empty()) return "";
  constexpr size_t kMaxSampleRows = 40;
  std::string html = "<h2>Samples</h2><p class=\"note\">Greedy continuations of logging.sample_prompts during "
                     "training; the prompt is in bold.</p><table><tr><th>step</th><th>text</th></tr>";
  for (size_t shown = 0; shown < m.samples.size() && shown < kMaxSampleRows; ++shown) {
    const json& s = m.samples[m.samples.size() - 1 - shown];
    html += "<tr><td>" + cell(s, "step") + "</td><td style=\"text-align:left;white-space:pre-wrap\"><b>" +
            escape_html(s.value("prompt", "")) + "</b>" + escape_html(s.value("text", "")) + "</td></tr>";
  }
  html += "</table>";
  if (m.samples.size() > kMaxSampleRows) {
    html += "<p class=\"note\">The latest " + std::to_string(kMaxSampleRows) + " are shown; metrics.jsonl has them all.</p>";
  }
  return html;
}

// A continuous run: test-then-train scores over the stream with its drift alerts marked, and
// the promotion gate's decisions.
std::string continuous_section(const Metrics& m) {
  if (m.prequential_accuracy.points.empty() && m.promotions.empty()) return "";
  std::vector<Marker> markers;
  for (const json& e : m.drift) {
    markers.push_back({number_or_nan(e, "record"), e.value("statistic", "") + " of " + e.value("subject", "") + " = " +
                                                        format_number(number_or_nan(e, "value"))});
  }
  std::string html = "<h2>Continuous training</h2><p class=\"note\">Each point is one eval.window of stream records, "
                     "scored by the model before any step trained on them (test-then-train).</p>";
  html += render_line_chart({"Prequential scores (red lines: drift alerts)", "stream records admitted", "score",
                             {m.prequential_accuracy, m.prequential_f1}, markers, false});
  if (m.promotions.empty()) return html;
  constexpr size_t kMaxRows = 50;
  html += "<h3>Promotion gate</h3><table><tr><th>step</th><th>decision</th><th>metric</th><th>value</th>"
          "<th>last promoted</th><th>unseen</th><th>reason</th></tr>";
  const size_t first = m.promotions.size() > kMaxRows ? m.promotions.size() - kMaxRows : 0;
  for (size_t i = first; i < m.promotions.size(); ++i) {
    const json& e = m.promotions[i];
    const bool promoted = e.value("event", "") == "promotion";
    html += "<tr><td>" + cell(e, "step") + "</td><td>" + (promoted ? "promoted" : "refused") + "</td><td>" +
            escape_html(text_or(e, "metric", "")) + "</td><td>" + cell(e, "value") + "</td><td>" + cell(e, "previous") +
            "</td><td>" + cell(e, "unseen") + "</td><td style=\"text-align:left\">" + escape_html(e.value("reason", "")) +
            "</td></tr>";
  }
  html += "</table>";
  if (first > 0) html += "<p class=\"note\">The latest " + std::to_string(kMaxRows) + " decisions; metrics.jsonl has them all.</p>";
  return html;
}

std::vector<Series> values(const std::map<std::string, Series>& by_split) {
  std::vector<Series> out;
  for (const char* split : {"seen", "validation", "unseen"}) {
    if (by_split.count(split)) out.push_back(by_split.at(split));
  }
  return out;
}

std::string training_section(const Metrics& m) {
  std::string html = "<h2>Training</h2><div class=\"grid\">";
  html += render_line_chart({"Training loss", "step", "loss", {m.loss}, {}, false});
  html += render_line_chart({"Learning rate", "step", "learning rate", {m.lr}, {}, false});
  html += render_line_chart({"Throughput", "step", "samples or tokens / s", {m.throughput}, {}, false});
  if (!m.loss_scale.points.empty()) {
    html += render_line_chart({"fp16 loss scale", "step", "factor", {m.loss_scale}, {}, true});
  }
  // With a single evaluation (at the end) the table below says it all; curves need two.
  bool evaluated_twice = false;
  for (const auto& [split, series] : m.eval_loss) evaluated_twice |= series.points.size() > 1;
  if (evaluated_twice) {
    html += render_line_chart({"Evaluation loss", "step", "loss", values(m.eval_loss), {}, false});
    html += render_line_chart({"Evaluation " + m.score_name, "step", m.score_name, values(m.eval_score), {},
                               m.score_name == "perplexity"});
  }
  html += "</div>";
  if (m.unreadable > 0) {
    html += "<p class=\"note\">" + std::to_string(m.unreadable) + " unreadable line(s) in metrics.jsonl were skipped.</p>";
  }
  return html;
}

std::string evaluation_section(const json& eval) {
  if (!eval.is_object() || !eval.contains("splits")) {
    return "<h2>Evaluation</h2><p class=\"note\">No eval.json: the run stopped before its final evaluation.</p>";
  }
  const json& splits = eval["splits"];
  const std::vector<std::string> names = eval.value("class_names", std::vector<std::string>{});
  bool language_model = false;
  for (const auto& [split, s] : splits.items()) language_model |= s.contains("perplexity");
  std::string html = "<h2>Evaluation at step " + cell(eval, "step") + "</h2>";
  // Which weights were scored: the last, the average (trainer.ema) or early stopping's best.
  if (eval.contains("weights") && eval["weights"].is_object()) {
    const json& w = eval["weights"];
    const std::string evaluated = text_or(w, "evaluated", "last");
    std::string note = evaluated == "ema"    ? "the weight average (trainer.ema)"
                       : evaluated == "best" ? "the best evaluated weights, from step " + cell(w, "step")
                                             : "the last weights";
    if (w.contains("early_stopping") && w["early_stopping"].is_object() && w["early_stopping"].contains("stopped") &&
        w["early_stopping"]["stopped"].is_boolean() && w["early_stopping"]["stopped"].get<bool>()) {
      const json& e = w["early_stopping"];
      note += "; early stopping ended the run at step " + cell(e, "stopped_at_step") + " (" +
              escape_html(text_or(e, "metric", "")) + " best " + cell(e, "best") + " at step " + cell(e, "best_step") + ")";
    }
    html += "<p class=\"note\">Scored: " + note + ".</p>";
  }
  html += "<table><tr><th>split</th><th>examples</th>";
  html += language_model ? "<th>loss</th><th>perplexity</th><th>token accuracy</th><th>tokens/s</th>"
                         : "<th>loss</th><th>accuracy</th><th>macro F1</th><th>macro precision</th>"
                           "<th>macro recall</th><th>ECE</th><th>samples/s</th>";
  html += "<th>latency p50 / p95 (ms)</th></tr>";
  for (const char* split : {"seen", "validation", "unseen"}) {
    if (!splits.contains(split)) continue;
    const json& s = splits[split];
    const json cost = s.value("cost", json::object());
    html += std::string("<tr><td>") + split + "</td><td>" + cell(s, "samples") + "</td><td>" + cell(s, "loss") + "</td>";
    if (language_model) {
      html += "<td>" + cell(s, "perplexity") + "</td><td>" + cell(s, "token_accuracy") + "</td><td>" +
              cell(cost, "tokens_per_second") + "</td>";
    } else {
      html += "<td>" + cell(s, "accuracy") + "</td><td>" + cell(s, "macro_f1") + "</td><td>" +
              cell(s, "macro_precision") + "</td><td>" + cell(s, "macro_recall") + "</td><td>" +
              cell(s, "expected_calibration_error") + "</td><td>" + cell(cost, "samples_per_second") + "</td>";
    }
    html += "<td>" + cell(cost, "batch_latency_p50_ms") + " / " + cell(cost, "batch_latency_p95_ms") + "</td></tr>";
  }
  html += "</table>";
  if (eval.contains("model")) {
    const json& m = eval["model"];
    html += "<p>Parameters: " + cell(m, "parameters") + " (" + cell(m, "trainable_parameters") +
            " trainable). Peak memory: " + format_bytes(number_or_nan(m, "peak_rss_bytes")) +
            " resident" +
            (m.contains("peak_cuda_allocated_bytes")
                 ? ", " + format_bytes(number_or_nan(m, "peak_cuda_allocated_bytes")) +
                       " CUDA allocated"
                 : std::string()) +
            ".</p>";
  }
  if (eval.contains("energy") && eval["energy"].is_object()) {
    // Measured by the machine's counters, or why not: never an estimate.
    const json& e = eval["energy"];
    if (e.contains("joules") && e["joules"].is_number()) {
      const bool tokens = e.contains("joules_per_training_token");
      html += "<p>Energy: " + cell(e, "joules") + " J (training " + cell(e, "training_joules") + " J, final evaluation " +
              cell(e, "final_evaluation_joules") + " J; " +
              cell(e, tokens ? "joules_per_training_token" : "joules_per_training_sample") + " J per training " +
              (tokens ? "token" : "sample") + "), measured by " + escape_html(text_or(e, "measured_by", "")) + ".</p>";
    } else {
      html += "<p class=\"note\">Energy: " + escape_html(text_or(e, "reason", "not measured")) + ".</p>";
    }
  }
  if (eval.contains("dataset_version") && eval["dataset_version"].is_string()) {
    html += "<p>Dataset version: <code>" + escape_html(eval["dataset_version"].get<std::string>()) + "</code>.</p>";
  }
  if (eval.contains("open_set")) {
    const json& o = eval["open_set"];
    html += "<p>Known vs unknown inputs (max-softmax score): AUROC " + cell(o, "auroc_max_softmax") +
            "; at threshold " + cell(o, "reject_threshold") + " the model rejects " +
            cell(o, "unseen_rejection_rate") + " of unseen and " + cell(o, "validation_rejection_rate") +
            " of validation examples.</p>";
  }
  if (language_model) return html;

  html += "<h3>Confusion matrices</h3><div class=\"grid\">";
  for (const char* split : {"validation", "unseen", "seen"}) {
    if (!splits.contains(split) || !splits[split].contains("confusion_matrix")) continue;
    const auto matrix = splits[split]["confusion_matrix"].get<std::vector<std::vector<int64_t>>>();
    html += render_heatmap(matrix, names, std::string(split) + " split");
  }
  html += "</div>";
  for (const char* split : {"validation", "unseen"}) {
    if (!splits.contains(split) || !splits[split].contains("per_class")) continue;
    const json& pc = splits[split]["per_class"];
    const auto precision = pc.value("precision", std::vector<double>{});
    const auto recall = pc.value("recall", std::vector<double>{});
    const auto f1 = pc.value("f1", std::vector<double>{});
    html += std::string("<h3>Per class, ") + split +
            " split</h3><table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th></tr>";
    for (size_t c = 0; c < precision.size() && c < recall.size() && c < f1.size(); ++c) {
      html += "<tr><td>" + escape_html(c < names.size() ? names[c] : std::to_string(c)) + "</td><td>" +
              format_number(precision[c]) + "</td><td>" + format_number(recall[c]) + "</td><td>" +
              format_number(f1[c]) + "</td></tr>";
    }
    html += "</table>";
  }
  return html;
}

// Evaluation by slice (eval.json "slices"): per split and slice definition, each group's
// metrics with bars and 95% intervals, the gap between the ranked groups, alerts in red; and
// the alerts raised at evaluations during training (metrics.jsonl).
std::string slices_section(const json& eval, const Metrics& m) {
  const bool any = eval.is_object() && eval.contains("slices") && eval["slices"].is_object();
  if (!any && m.slice_alerts.empty()) return "";
  std::string html = "<h2>Evaluation by slice</h2><p class=\"note\">Groups under eval.min_slice_size are shown but "
                     "not ranked; bars show the value with its bootstrap 95% interval.</p>";
  for (const char* split : {"validation", "unseen", "seen"}) {
    if (!any || !eval["slices"].contains(split) || !eval["slices"][split].is_array()) continue;
    for (const json& slice : eval["slices"][split]) {
      if (!slice.is_object()) continue;
      const json groups = slice.value("groups", json::array());
      const json disparity = slice.value("disparity", json::object());
      const json alerts = slice.value("alerts", json::array());
      const bool language_model = !groups.empty() && groups[0].contains("perplexity");
      const std::vector<std::string> metrics = language_model ? std::vector<std::string>{"perplexity", "loss", "accuracy"}
                                                              : std::vector<std::string>{"accuracy", "macro_f1", "loss", "ece"};
      const std::string headline = metrics.front();
      std::vector<std::string> flagged;  // groups named worst by an alert
      for (const json& a : alerts) flagged.push_back(a.value("worst", ""));
      double scale = headline == "accuracy" ? 1.0 : 0.0;
      for (const json& g : groups) scale = std::max(scale, number_or_nan(g, headline.c_str()));
      html += "<h3>" + std::string(split) + " split by " + escape_html(slice.value("name", "?")) +
              "</h3><table><tr><th>slice</th><th>examples</th><th>" + headline + " (95% interval)</th>";
      for (size_t i = 1; i < metrics.size(); ++i) html += "<th>" + metrics[i] + "</th>";
      html += "<th>ranked</th></tr>";
      for (const json& g : groups) {
        const std::string name = g.value("slice", "?");
        const bool alert = std::find(flagged.begin(), flagged.end(), name) != flagged.end();
        const json ci = g.value(headline + "_ci95", json());
        const bool has_ci = ci.is_array() && ci.size() == 2 && ci[0].is_number() && ci[1].is_number();
        const double low = has_ci ? ci[0].get<double>() : 0, high = has_ci ? ci[1].get<double>() : 0;
        html += std::string("<tr") + (alert ? " style=\"background:#fde2e2\"" : "") + "><td>" + escape_html(name) +
                "</td><td>" + cell(g, "count") + "</td><td style=\"text-align:left\">" +
                render_interval_bar(number_or_nan(g, headline.c_str()), low, high, scale, alert) + " " +
                cell(g, headline.c_str()) +
                (has_ci ? " (" + format_number(low) + "–" + format_number(high) + ")" : std::string()) + "</td>";
        for (size_t i = 1; i < metrics.size(); ++i) html += "<td>" + cell(g, metrics[i].c_str()) + "</td>";
        html += std::string("<td>") + (g.value("ranked", false) ? "yes" : "no (too few)") + "</td></tr>";
      }
      html += "</table>";
      if (disparity.contains(headline)) {
        const json& d = disparity[headline];
        const json ci = d.value("difference_ci95", json());
        html += "<p>Gap in " + headline + " between ranked slices: " + cell(d, "difference") +
                (ci.is_array() && ci.size() == 2 ? " (95% interval " + item(ci, 0) + "–" + item(ci, 1) + ")" : "") +
                "; ratio " + cell(d, "ratio") + "; worst: " + escape_html(d.value("worst", "?")) + ".</p>";
      }
      for (const json& a : alerts) {
        html += "<p style=\"color:#b00020;font-weight:600\">" + escape_html(a.value("message", "slice alert")) + "</p>";
      }
    }
  }
  if (!m.slice_alerts.empty()) {
    html += "<h3>Slice alerts during training (" + std::to_string(m.slice_alerts.size()) +
            ")</h3><table><tr><th>step</th><th>split</th><th>slices by</th><th>metric</th><th>worst</th><th>best</th>"
            "<th>gap</th><th>threshold</th></tr>";
    for (size_t i = 0; i < m.slice_alerts.size() && i < kMaxDriftRows; ++i) {
      const json& a = m.slice_alerts[i];
      html += "<tr style=\"background:#fde2e2\"><td>" + cell(a, "step") + "</td><td>" + escape_html(a.value("split", "")) +
              "</td><td>" + escape_html(a.value("slice", "")) + "</td><td>" + escape_html(a.value("metric", "")) +
              "</td><td>" + escape_html(a.value("worst", "")) + "</td><td>" + escape_html(a.value("best", "")) +
              "</td><td>" + cell(a, "difference") + "</td><td>" + cell(a, "max_gap") + "</td></tr>";
    }
    html += "</table>";
  }
  return html;
}

// A mix: each source's settings, target share and the share training achieved (metrics.jsonl).
std::string sources_table(const json& manifest, const Metrics& m) {
  if (!manifest.is_object() || !manifest.contains("sources") || !manifest["sources"].is_array()) return "";
  std::string html = "<h3>Sources</h3><table><tr><th>source</th><th>path</th><th>weight</th><th>target share</th>"
                     "<th>achieved share</th><th>passes</th><th>seen</th><th>validation</th><th>unseen</th>"
                     "<th>read</th><th>rejected</th></tr>";
  for (const json& s : manifest["sources"]) {
    const std::string name = s.value("name", "?");
    const json examples = s.value("examples", json::object());
    const double achieved = number_or_nan(m.last_train, ("mix/" + name + "/share").c_str());
    html += "<tr><td>" + escape_html(name) + "</td><td>" + escape_html(s.value("path", "")) + "</td><td>" +
            cell(s, "weight") + "</td><td>" + format_number(100 * number_or_nan(s, "target_share")) + "%</td><td>" +
            (std::isnan(achieved) ? std::string("–") : format_number(100 * achieved) + "%") + "</td><td>" +
            cell(m.last_train, ("mix/" + name + "/passes").c_str()) + "</td><td>" + cell(examples, "seen") +
            "</td><td>" + cell(examples, "validation") + "</td><td>" + cell(examples, "unseen") + "</td><td>" +
            cell(s, "records_read") + "</td><td>" + cell(s, "records_rejected") + "</td></tr>";
  }
  return html + "</table>";
}

std::string data_section(const json& reservoirs, const json& manifest, const Metrics& m) {
  std::string html = "<h2>Data</h2>" + sources_table(manifest, m);
  std::vector<Marker> markers;
  for (const json& e : m.drift) {
    markers.push_back({number_or_nan(e, "record"), e.value("statistic", "") + " of " + e.value("subject", "") + " = " +
                                                        format_number(number_or_nan(e, "value"))});
  }
  if (reservoirs.is_object() && reservoirs.contains("history")) {
    const auto names = reservoirs.value("class_names", std::vector<std::string>{});
    std::vector<Series> series;
    for (const json& snapshot : reservoirs["history"]) {
      const double record = number_or_nan(snapshot, "record");
      const auto sizes = snapshot.value("sizes", std::vector<int64_t>{});
      if (series.size() < sizes.size()) series.resize(sizes.size());
      for (size_t label = 0; label < sizes.size(); ++label) {
        series[label].points.emplace_back(record, static_cast<double>(sizes[label]));
      }
    }
    for (size_t label = 0; label < series.size(); ++label) {
      series[label].name = label < names.size() ? names[label] : std::to_string(label);
    }
    html += render_line_chart({"Reservoir size per label (red lines: drift alerts)", "training-stream records read",
                               "examples kept", series, markers, false});
    if (reservoirs.contains("sampler")) {
      const json& s = reservoirs["sampler"];
      html += "<p>Sampler: " + cell(s, "offered") + " records offered, " + cell(s, "entered") + " insertions, " +
              cell(s, "evicted") + " evicted, " + cell(s, "duplicates") + " near-duplicates refused, " +
              cell(s, "rebalances") + " quota plans.</p>";
    }
  } else {
    html += "<p class=\"note\">No reservoirs.json in this run directory.</p>";
  }
  if (m.drift.empty()) {
    html += "<p>No drift alerts.</p>";
    return html;
  }
  html += "<h3>Drift alerts (" + std::to_string(m.drift.size()) +
          ")</h3><table><tr><th>record</th><th>statistic</th><th>of</th><th>value</th><th>threshold</th></tr>";
  for (size_t i = 0; i < m.drift.size() && i < kMaxDriftRows; ++i) {
    const json& e = m.drift[i];
    html += "<tr><td>" + cell(e, "record") + "</td><td>" + escape_html(e.value("statistic", "")) + "</td><td>" +
            escape_html(e.value("subject", "")) + "</td><td>" + cell(e, "value") + "</td><td>" + cell(e, "threshold") +
            "</td></tr>";
  }
  html += "</table>";
  if (m.drift.size() > kMaxDriftRows) {
    html += "<p class=\"note\">The first " + std::to_string(kMaxDriftRows) + " are listed; metrics.jsonl has them all.</p>";
  }
  return html;
}


}  // namespace

std::string write_run_report(const std::string& run_dir) {
  const fs::path dir(run_dir);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UserError(run_dir + ": no such run directory");
  // Never write into a folder that is not a run: every run writes config.resolved.yaml first.
  if (!fs::is_regular_file(dir / "config.resolved.yaml", ec)) {
    throw UserError(run_dir + ": not a Stratum run directory (no config.resolved.yaml); pass a folder that "
                              "`stratum train` created, e.g. runs/NAME-TIMESTAMP");
  }
  const Metrics metrics = read_metrics(dir / "metrics.jsonl");
  const json eval = read_json(dir / "eval.json");
  const json reservoirs = read_json(dir / "reservoirs.json");
  const std::string name = fs::absolute(dir).lexically_normal().filename().string();

  std::string html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + escape_html(name) +
                     " · Stratum report</title><style>" + page_style() + "</style></head><body>";
  html += "<h1>" + escape_html(name) + "</h1><p class=\"note\">Stratum " + stratum_version() + " · " +
          escape_html(fs::absolute(dir).lexically_normal().string()) + "</p>";
  if (!metrics.loss.points.empty()) {
    html += "<p>" + format_number(metrics.loss.points.back().first) + " steps; training loss " +
            format_number(metrics.loss.points.front().second) + " → " +
            format_number(metrics.loss.points.back().second) + ".</p>";
  }
  html += training_section(metrics);
  html += samples_section(metrics);
  html += continuous_section(metrics);
  html += evaluation_section(eval);
  html += slices_section(eval, metrics);
  html += data_section(reservoirs, read_json(dir / "manifest.json"), metrics);
  if (fs::is_regular_file(dir / "config.resolved.yaml")) {
    html += "<h2>Configuration</h2><details><summary>config.resolved.yaml</summary><pre>" +
            escape_html(read_text(dir / "config.resolved.yaml")) + "</pre></details>";
  }
  html += "</body></html>\n";
  const std::string path = (dir / "report.html").string();
  write_file_atomically(path, html);
  return path;
}

}  // namespace stratum::report
