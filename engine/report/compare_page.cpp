#include "engine/report/compare_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/read_file.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/version.h"
#include "engine/config.h"
#include "engine/experiments/run_statistics.h"
#include "engine/experiments/run_summary.h"
#include "engine/predictions_file.h"
#include "engine/report/svg_chart.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace stratum::report {
namespace {

using experiments::RunSummary;

struct Loaded {
  ComparedRun run;
  RunSummary summary;
  std::vector<ConfigEntry> config;  ///< empty when config.resolved.yaml cannot be read
  std::string config_problem;
  json manifest;                    ///< null when absent
  std::map<std::string, ExampleOutcomes> predictions;
};

// The points of `earlier` before the first step of `later`, then `later`.
experiments::Curve stitched(const experiments::Curve& earlier, const experiments::Curve& later) {
  const double from = later.empty() ? std::numeric_limits<double>::infinity() : later.front().first;
  experiments::Curve out;
  for (const auto& p : earlier) {
    if (p.first < from) out.push_back(p);
  }
  out.insert(out.end(), later.begin(), later.end());
  return out;
}

Loaded load(const ComparedRun& run) {
  Loaded l;
  l.run = run;
  l.summary = experiments::read_run_summary(run.dir);
  // A resumed run's metrics.jsonl starts where it resumed; its earlier attempts hold the rest.
  for (auto it = run.earlier_dirs.rbegin(); it != run.earlier_dirs.rend(); ++it) {
    RunSummary earlier;
    try {
      earlier = experiments::read_run_summary(*it);
    } catch (const UserError&) {
      continue;  // an attempt that died before writing anything
    }
    l.summary.train_loss = stitched(earlier.train_loss, l.summary.train_loss);
    l.summary.throughput = stitched(earlier.throughput, l.summary.throughput);
    for (auto& [split, curve] : l.summary.eval_loss) curve = stitched(earlier.eval_loss[split], curve);
    for (auto& [split, curve] : l.summary.eval_score) curve = stitched(earlier.eval_score[split], curve);
  }
  const std::string config_path = run.dir + "/config.resolved.yaml";
  if (fs::exists(config_path)) {
    try {
      l.config = flatten_config(load_config(config_path));
    } catch (const UserError& e) {
      l.config_problem = first_line(e.what());
    }
  } else {
    l.config_problem = "no config.resolved.yaml";
  }
  l.manifest = json::parse(read_file(run.dir + "/manifest.json").value_or(""), nullptr, false);
  if (l.manifest.is_discarded()) l.manifest = nullptr;
  if (fs::exists(run.dir + "/predictions.json")) l.predictions = read_predictions(run.dir + "/predictions.json");
  return l;
}

// Metrics to four decimals: enough to tell runs apart, few enough to read across a table.
std::string fixed(double v, bool sign = false) {
  if (std::isnan(v)) return "–";
  char buf[48];
  std::snprintf(buf, sizeof buf, sign ? "%+.4f" : "%.4f", v);
  return buf;
}

std::string number_cell(double v) { return fixed(v); }

std::string signed_number(double v) { return fixed(v, true); }

// Whether two runs scored the same examples with the same truth: their predictions pair up.
bool paired(const ExampleOutcomes& a, const ExampleOutcomes& b) {
  return !a.language_model && !b.language_model && a.example == b.example && a.target == b.target &&
         a.num_classes == b.num_classes;
}

experiments::LabeledPredictions labeled(const ExampleOutcomes& o) { return {o.target, o.predicted, o.num_classes}; }

std::string interval(double low, double high) {
  return "<span class=\"note\">[" + fixed(low) + ", " + fixed(high) + "]</span>";
}

std::string runs_section(const std::vector<Loaded>& runs) {
  std::string html = "<h2>Runs</h2><table><tr><th>run</th><th>directory</th><th>steps</th><th>weights scored</th>"
                     "<th>training samples/s</th><th>peak RSS</th><th>peak CUDA memory</th></tr>";
  for (const Loaded& l : runs) {
    const RunSummary& s = l.summary;
    html += "<tr><td>" + escape_html(l.run.label) + "</td><td style=\"text-align:left\">" + escape_html(l.run.dir) +
            "</td><td>" + (s.evaluated ? std::to_string(s.steps) : "unfinished") + "</td><td>" +
            escape_html(s.weights.empty() ? "last" : s.weights) + "</td><td>" +
            (s.samples_per_second >= 0 ? format_number(std::round(s.samples_per_second)) : "–") + "</td><td>" +
            (s.peak_rss_bytes >= 0 ? format_bytes(s.peak_rss_bytes) : "–") + "</td><td>" +
            (s.peak_cuda_bytes >= 0 ? format_bytes(s.peak_cuda_bytes) : "–") + "</td></tr>";
  }
  return html + "</table>";
}

// Data: the same files (by sha256) and splits, or not; different files are flagged loudly.
std::string data_section(const std::vector<Loaded>& runs) {
  const auto files_of = [](const json& m) {
    std::set<std::string> files;
    if (m.is_object() && m.contains("files") && m["files"].is_array()) {
      for (const json& f : m["files"]) files.insert(f.dump());  // path, size, sha256: any difference counts
    }
    return files;
  };
  const auto source_of = [](const json& m) { return m.is_object() && m.contains("source") ? m["source"] : json(); };
  const auto counts_of = [](const json& m) {
    return m.is_object() && m.contains("label_counts") ? m["label_counts"].dump() : std::string();
  };
  std::string html = "<h2>Data</h2>";
  const Loaded& first = runs[0];
  std::string rows;
  bool any_different_files = false;
  for (size_t i = 1; i < runs.size(); ++i) {
    const Loaded& l = runs[i];
    std::string verdict;
    if (first.manifest.is_null() || l.manifest.is_null()) {
      verdict = "unknown (no manifest.json)";
    } else if (files_of(first.manifest) != files_of(l.manifest) ||
               source_of(first.manifest) != source_of(l.manifest)) {
      verdict = "<b style=\"color:#b00020\">DIFFERENT DATA FILES</b>";
      any_different_files = true;
    } else if (counts_of(first.manifest) != counts_of(l.manifest)) {
      verdict = "same files, different splits (per-label counts differ: seed, fractions or reservoir settings)";
    } else {
      verdict = "same files and splits";
    }
    rows += "<tr><td>" + escape_html(l.run.label) + "</td><td style=\"text-align:left\">" + verdict + "</td></tr>";
  }
  if (any_different_files) {
    html += "<p style=\"color:#b00020;font-weight:600;font-size:16px\">Some runs trained or were evaluated on different "
            "data files than " + escape_html(first.run.label) + ": their metrics are not comparable as they stand.</p>";
  }
  return html + "<table><tr><th>against " + escape_html(first.run.label) + "</th><th>data</th></tr>" + rows + "</table>";
}

std::string metrics_section(const std::vector<Loaded>& runs, int64_t resamples) {
  // Held-out splits first: they are what a comparison is about.
  std::vector<std::string> keys;
  for (const char* split : {"validation.", "unseen.", "seen."}) {
    for (const Loaded& l : runs) {
      for (const auto& [k, v] : l.summary.metrics) {
        if (k.rfind(split, 0) == 0 && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      }
    }
  }
  std::string html = "<h2>Final metrics</h2><p class=\"note\">Differences are against " + escape_html(runs[0].run.label) +
                     ". Intervals are 95% bootstrap intervals over the evaluated examples (" + std::to_string(resamples) +
                     " resamples of predictions.json); a difference's interval comes from resampling both runs' "
                     "predictions on the same examples together, and is bold when it excludes 0.</p>";
  html += "<table><tr><th>metric</th>";
  for (size_t i = 0; i < runs.size(); ++i) {
    html += "<th>" + escape_html(runs[i].run.label) + "</th>";
    if (i > 0) html += "<th>Δ</th>";
  }
  html += "</tr>";
  for (const std::string& key : keys) {
    const size_t dot = key.find('.');
    const std::string split = key.substr(0, dot), metric = key.substr(dot + 1);
    const bool bootstrapped = metric == "accuracy" || metric == "macro_f1";
    html += "<tr><td>" + escape_html(key) + "</td>";
    const double reference = runs[0].summary.metric(key);
    const ExampleOutcomes* reference_outcomes =
        runs[0].predictions.count(split) ? &runs[0].predictions.at(split) : nullptr;
    for (size_t i = 0; i < runs.size(); ++i) {
      const double v = runs[i].summary.metric(key);
      std::string cell = number_cell(v);
      const ExampleOutcomes* outcomes = runs[i].predictions.count(split) ? &runs[i].predictions.at(split) : nullptr;
      if (bootstrapped && outcomes && !outcomes->language_model && outcomes->size() > 0) {
        const experiments::PairedDifference own = experiments::bootstrap_scores(labeled(*outcomes), resamples, 17);
        const experiments::BootstrapInterval& b = metric == "accuracy" ? own.accuracy : own.macro_f1;
        cell += " " + interval(b.low, b.high);
      }
      html += "<td>" + cell + "</td>";
      if (i == 0) continue;
      std::string delta = signed_number(v - reference);
      if (bootstrapped && outcomes && reference_outcomes && paired(*reference_outcomes, *outcomes)) {
        const experiments::PairedDifference d =
            experiments::paired_bootstrap(labeled(*reference_outcomes), labeled(*outcomes), resamples, 17);
        const experiments::BootstrapInterval& b = metric == "accuracy" ? d.accuracy : d.macro_f1;
        const bool clear = b.low > 0 || b.high < 0;
        delta = (clear ? "<b>" : "") + delta + (clear ? "</b>" : "") + " " + interval(b.low, b.high);
      }
      html += "<td>" + delta + "</td>";
    }
    html += "</tr>";
  }
  return html + "</table>";
}

// A sweep's settings: each metric's mean over the setting's seeds with a t interval.
std::string settings_section(const std::vector<Loaded>& runs) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Loaded*>> members;
  for (const Loaded& l : runs) {
    if (l.run.setting.empty()) return "";
    if (!members.count(l.run.setting)) order.push_back(l.run.setting);
    members[l.run.setting].push_back(&l);
  }
  if (order.size() == runs.size()) return "";  // one run per setting: the metrics table says it all
  std::vector<std::string> keys;
  for (const char* key : {"validation.accuracy", "validation.macro_f1", "unseen.accuracy", "unseen.macro_f1",
                          "validation.perplexity", "unseen.perplexity", "validation.loss", "unseen.loss"}) {
    if (!std::isnan(runs[0].summary.metric(key))) keys.push_back(key);
  }
  std::string html = "<h2>Settings</h2><p class=\"note\">Mean over each setting's seeds with the 95% interval of "
                     "the mean (Student's t).</p><table><tr><th>setting</th><th>runs</th>";
  for (const std::string& k : keys) html += "<th>" + escape_html(k) + "</th>";
  html += "</tr>";
  for (const std::string& name : order) {
    html += "<tr><td>" + escape_html(name) + "</td><td>" + std::to_string(members[name].size()) + "</td>";
    for (const std::string& k : keys) {
      std::vector<double> values;
      for (const Loaded* l : members[name]) values.push_back(l->summary.metric(k));
      const experiments::SeedSummary s = experiments::summarize_seeds(values);
      html += "<td>" + fixed(s.mean) + (s.n > 1 ? " " + interval(s.ci_low, s.ci_high) : std::string()) + "</td>";
    }
    html += "</tr>";
  }
  return html + "</table>";
}

// Run names and folders always differ; the keys that change what is trained are what matters.
std::string config_section(const std::vector<Loaded>& runs) {
  static const std::set<std::string> noise = {"run.name", "run.output_dir"};
  std::vector<std::string> order;
  std::vector<std::map<std::string, std::string>> values(runs.size());
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const ConfigEntry& e : runs[i].config) {
      if (noise.count(e.key)) continue;
      if (!values[i].count(e.key) && std::find(order.begin(), order.end(), e.key) == order.end()) order.push_back(e.key);
      values[i][e.key] = e.value;
    }
  }
  std::string rows;
  for (const std::string& key : order) {
    bool differs = false;
    for (size_t i = 1; i < runs.size(); ++i) {
      differs = differs || values[i][key] != values[0][key];
    }
    if (!differs) continue;
    rows += "<tr><td>" + escape_html(key) + "</td>";
    for (size_t i = 0; i < runs.size(); ++i) {
      const auto it = values[i].find(key);
      rows += "<td style=\"text-align:left\">" + escape_html(it == values[i].end() ? "–" : it->second) + "</td>";
    }
    rows += "</tr>";
  }
  std::string html = "<h2>Config differences</h2>";
  for (const Loaded& l : runs) {
    if (!l.config_problem.empty()) {
      html += "<p class=\"note\">" + escape_html(l.run.label) + ": config not compared (" + escape_html(l.config_problem) + ")</p>";
    }
  }
  if (rows.empty()) return html + "<p>The configs are the same (apart from run.name and run.output_dir).</p>";
  html += "<table><tr><th>key</th>";
  for (const Loaded& l : runs) html += "<th>" + escape_html(l.run.label) + "</th>";
  return html + "</tr>" + rows + "</table>";
}

Series series_of(const std::string& name, const experiments::Curve& curve) {
  Series s{name, {}};
  for (const auto& p : curve) {
    if (std::isfinite(p.second)) s.points.push_back(p);
  }
  return s;
}

std::string curves_section(const std::vector<Loaded>& runs) {
  std::vector<Series> loss, throughput;
  std::map<std::string, std::vector<Series>> eval_loss, eval_score;
  std::string score_name = runs[0].summary.score_name;
  for (const Loaded& l : runs) {
    loss.push_back(series_of(l.run.label, l.summary.train_loss));
    throughput.push_back(series_of(l.run.label, l.summary.throughput));
    for (const auto& [split, curve] : l.summary.eval_loss) eval_loss[split].push_back(series_of(l.run.label, curve));
    for (const auto& [split, curve] : l.summary.eval_score) eval_score[split].push_back(series_of(l.run.label, curve));
  }
  std::string html = "<h2>Curves</h2><div class=\"grid\">";
  html += render_line_chart({"Training loss", "step", "loss", loss, {}, false});
  for (const char* split : {"validation", "unseen"}) {
    if (!eval_loss.count(split)) continue;
    bool several = false;
    for (const Series& s : eval_loss[split]) several = several || s.points.size() > 1;
    if (!several) continue;  // one evaluation at the end: the table says it all
    html += render_line_chart({std::string("Evaluation loss (") + split + ")", "step", "loss", eval_loss[split], {}, false});
    html += render_line_chart({"Evaluation " + score_name + " (" + split + ")", "step", score_name, eval_score[split], {},
                               score_name == "perplexity"});
  }
  html += render_line_chart({"Training throughput", "step", "samples or tokens / s", throughput, {}, false});
  return html + "</div>";
}

}  // namespace

std::string render_compare_page(const std::vector<ComparedRun>& compared, int64_t bootstrap_resamples) {
  if (compared.size() < 2) throw UserError("compare: needs at least two runs (or a sweep folder with two finished runs)");
  std::vector<Loaded> runs;
  for (const ComparedRun& r : compared) runs.push_back(load(r));
  // Something to compare: the same kind of task, and some figure both have.
  const Loaded& first = runs[0];
  for (size_t i = 1; i < runs.size(); ++i) {
    const Loaded& l = runs[i];
    const bool first_has = first.summary.evaluated || !first.summary.train_loss.empty();
    const bool this_has = l.summary.evaluated || !l.summary.train_loss.empty();
    if (!first_has || !this_has) {
      throw UserError("compare: " + (first_has ? l.run.dir : first.run.dir) + " has neither an evaluation nor a training "
                      "curve to compare");
    }
    if (first.summary.evaluated && l.summary.evaluated && first.summary.language_model != l.summary.language_model) {
      throw UserError("compare: " + l.run.dir + " and " + first.run.dir + " have nothing in common: one is a language "
                      "model, the other a classifier");
    }
    bool shared = false;
    for (const auto& [k, v] : l.summary.metrics) shared = shared || !std::isnan(first.summary.metric(k));
    if (!shared && (first.summary.evaluated && l.summary.evaluated)) {
      throw UserError("compare: " + l.run.dir + " and " + first.run.dir + " have nothing in common: no split and "
                      "metric both evaluated");
    }
  }
  std::string html = std::string("<!doctype html><html><head><meta charset=\"utf-8\"><title>Stratum comparison of ") +
                     std::to_string(runs.size()) + " runs</title><style>" + page_style() + "</style></head><body>";
  html += "<h1>Comparison of " + std::to_string(runs.size()) + " runs</h1><p class=\"note\">Stratum " +
          stratum_version() + "</p>";
  html += settings_section(runs);
  html += runs_section(runs);
  html += data_section(runs);
  html += metrics_section(runs, bootstrap_resamples);
  html += curves_section(runs);
  html += config_section(runs);
  return html + "</body></html>\n";
}

}  // namespace stratum::report
