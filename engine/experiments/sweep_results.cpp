#include "engine/experiments/sweep_results.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/text.h"
#include "engine/experiments/run_statistics.h"
#include "engine/experiments/run_summary.h"

namespace stratum::experiments {
namespace {

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string csv_number(double v) { return std::isnan(v) ? "" : format_number(v); }

nlohmann::ordered_json json_number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(); }

void add_unique(std::vector<std::string>& list, const std::string& item) {
  for (const std::string& s : list) {
    if (s == item) return;
  }
  list.push_back(item);
}

}  // namespace

std::string write_sweep_results(const SweepState& state, const std::string& dir) {
  // Each finished run's summary; the columns are the union of what they report.
  std::vector<RunSummary> summaries(state.runs.size());
  std::vector<std::string> varied_keys, metric_keys;
  for (size_t i = 0; i < state.runs.size(); ++i) {
    const SweepRun& r = state.runs[i];
    for (const auto& [k, v] : r.plan.varied) add_unique(varied_keys, k);
    if (r.state != RunState::finished || r.run_dir().empty()) continue;
    try {
      summaries[i] = read_run_summary(r.run_dir());
    } catch (const UserError&) {
      continue;  // a run directory removed since: the row says finished, with no figures
    }
    for (const auto& [k, v] : summaries[i].metrics) add_unique(metric_keys, k);
  }
  const auto varied_value = [](const SweepRun& r, const std::string& key) {
    for (const auto& [k, v] : r.plan.varied) {
      if (k == key) return v;
    }
    return std::string();
  };

  std::string csv = "run,setting,seed,ablated,state,exit_code";
  for (const std::string& k : varied_keys) csv += "," + csv_field(k);
  csv += ",steps,wall_seconds,peak_rss_mib,samples_per_second,weights";
  for (const std::string& m : metric_keys) csv += "," + m;
  csv += ",run_dir\n";
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (size_t i = 0; i < state.runs.size(); ++i) {
    const SweepRun& r = state.runs[i];
    const RunSummary& s = summaries[i];
    csv += csv_field(r.plan.id) + "," + csv_field(r.plan.setting) + "," + (r.plan.seed >= 0 ? std::to_string(r.plan.seed) : "") +
           "," + csv_field(r.plan.ablated) + "," + run_state_name(r.state) + "," + std::to_string(r.exit_code);
    for (const std::string& k : varied_keys) csv += "," + csv_field(varied_value(r, k));
    const double rss_mib = s.peak_rss_bytes >= 0 ? s.peak_rss_bytes / 1048576.0 : std::nan("");
    const double throughput = s.samples_per_second >= 0 ? s.samples_per_second : std::nan("");
    csv += "," + (s.evaluated ? std::to_string(s.steps) : "") + "," + csv_number(r.seconds()) + "," + csv_number(rss_mib) +
           "," + csv_number(throughput) + "," + s.weights;
    nlohmann::ordered_json j = {{"run", r.plan.id}, {"setting", r.plan.setting}, {"seed", r.plan.seed},
                                {"ablated", r.plan.ablated}, {"state", run_state_name(r.state)},
                                {"exit_code", r.exit_code}, {"run_dir", r.run_dir()}, {"steps", s.steps},
                                {"wall_seconds", r.seconds()}, {"peak_rss_mib", json_number(rss_mib)},
                                {"samples_per_second", json_number(throughput)}, {"weights", s.weights}};
    j["varied"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : r.plan.varied) j["varied"][k] = v;
    j["metrics"] = nlohmann::ordered_json::object();
    for (const std::string& m : metric_keys) {
      csv += "," + csv_number(s.metric(m));
      j["metrics"][m] = json_number(s.metric(m));
    }
    csv += "," + csv_field(r.run_dir()) + "\n";
    runs.push_back(j);
  }

  // Per setting, over its finished seeds.
  std::vector<std::string> setting_order;
  std::map<std::string, std::vector<size_t>> members;
  for (size_t i = 0; i < state.runs.size(); ++i) {
    add_unique(setting_order, state.runs[i].plan.setting);
    if (state.runs[i].state == RunState::finished && summaries[i].evaluated) members[state.runs[i].plan.setting].push_back(i);
  }
  std::string settings_csv = "setting,finished_runs";
  for (const std::string& k : varied_keys) settings_csv += "," + csv_field(k);
  for (const std::string& m : metric_keys) settings_csv += "," + m + "_mean," + m + "_std," + m + "_ci95_low," + m + "_ci95_high";
  settings_csv += "\n";
  nlohmann::ordered_json settings = nlohmann::ordered_json::array();
  // The console shows the held-out metrics people compare first.
  std::vector<std::string> shown;
  for (const char* m : {"validation.accuracy", "unseen.accuracy", "validation.perplexity", "unseen.perplexity",
                       "validation.loss"}) {
    for (const std::string& k : metric_keys) {
      if (k == m && shown.size() < 3) shown.push_back(m);
    }
  }
  char line[512];
  std::string table = "\nsetting                                            runs";
  for (const std::string& m : shown) {
    std::snprintf(line, sizeof line, "  %-28s", (m + " (95% CI)").c_str());
    table += line;
  }
  table += "\n";
  for (const std::string& name : setting_order) {
    const std::vector<size_t>& idx = members[name];
    const SweepRun* first = nullptr;
    for (const SweepRun& r : state.runs) {
      if (r.plan.setting == name) {
        first = &r;
        break;
      }
    }
    settings_csv += csv_field(name) + "," + std::to_string(idx.size());
    for (const std::string& k : varied_keys) settings_csv += "," + csv_field(varied_value(*first, k));
    nlohmann::ordered_json j = {{"setting", name}, {"finished_runs", idx.size()}, {"ablated", first->plan.ablated}};
    j["varied"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : first->plan.varied) j["varied"][k] = v;
    j["metrics"] = nlohmann::ordered_json::object();
    std::snprintf(line, sizeof line, "%-50s %4zu", name.substr(0, 50).c_str(), idx.size());
    table += line;
    std::map<std::string, SeedSummary> by_metric;
    for (const std::string& m : metric_keys) {
      std::vector<double> values;
      for (size_t i : idx) values.push_back(summaries[i].metric(m));
      const SeedSummary s = summarize_seeds(values);
      by_metric[m] = s;
      settings_csv += "," + csv_number(s.mean) + "," + csv_number(s.std) + "," + csv_number(s.ci_low) + "," +
                      csv_number(s.ci_high);
      j["metrics"][m] = {{"n", s.n}, {"mean", json_number(s.mean)}, {"std", json_number(s.std)},
                         {"ci95", {json_number(s.ci_low), json_number(s.ci_high)}}};
    }
    for (const std::string& m : shown) {
      const SeedSummary& s = by_metric[m];
      if (s.n == 0) {
        std::snprintf(line, sizeof line, "  %-28s", "-");
      } else if (s.n == 1) {
        std::snprintf(line, sizeof line, "  %-28.4f", s.mean);
      } else {
        std::snprintf(line, sizeof line, "  %.4f [%.4f, %.4f]%-6s", s.mean, s.ci_low, s.ci_high, "");
      }
      table += line;
    }
    table += "\n";
    settings_csv += "\n";
    settings.push_back(j);
  }
  nlohmann::ordered_json out = {{"format", 1}, {"base_config", state.base_config}, {"runs", runs}, {"settings", settings}};
  write_file_atomically(dir + "/results.csv", csv);
  write_file_atomically(dir + "/settings.csv", settings_csv);
  write_file_atomically(dir + "/results.json", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return table;
}

}  // namespace stratum::experiments
