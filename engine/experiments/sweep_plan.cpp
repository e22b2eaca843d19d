#include "engine/experiments/sweep_plan.h"

#include <cmath>
#include <map>
#include <random>
#include <set>

#include "core/error.h"
#include "core/text.h"

namespace stratum::experiments {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::pair<std::string, std::string> key_and_value(const std::string& flag, const std::string& text, bool value_required) {
  const size_t eq = text.find('=');
  if (eq == 0 || (value_required && eq == std::string::npos)) {
    throw UserError(flag + " " + printable(text, 80) + ": expected KEY=VALUES");
  }
  if (eq == std::string::npos) return {trim(text), ""};
  return {trim(text.substr(0, eq)), text.substr(eq + 1)};
}

// The key must name a field of the config (sections only where the caller allows them).
const ConfigEntry* find_entry(const std::vector<ConfigEntry>& entries, const std::string& key) {
  for (const ConfigEntry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

[[noreturn]] void unknown_key(const std::string& flag, const std::string& key, const std::vector<ConfigEntry>& entries) {
  std::vector<std::string> keys;
  for (const ConfigEntry& e : entries) keys.push_back(e.key);
  const std::string guess = nearest(key, keys);
  throw UserError(flag + " " + printable(key, 80) + ": not a config key" + (guess.empty() ? "" : " (did you mean " + guess + "?)") +
                  "; see stratum train --help");
}

// Folder-safe text for a run id.
std::string slug(const std::string& text) {
  std::string out;
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
                    c == '_' || c == '=';
    if (ok) out += c;
    else if (!out.empty() && out.back() != '_') out += '_';
  }
  return out;
}

std::string short_key(const std::string& key) {
  const size_t dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

std::string padded(size_t i) {
  std::string n = std::to_string(i);
  return std::string(n.size() < 3 ? 3 - n.size() : 0, '0') + n;
}

// "lo:hi", "log:lo:hi", "int:lo:hi" -> a draw.
struct Range {
  std::string key;
  enum Kind { uniform, log_uniform, integer } kind = uniform;
  double lo = 0, hi = 0;
};

Range parse_range(const std::string& text) {
  const auto [key, spec] = key_and_value("--range", text, true);
  std::vector<std::string> parts = split(spec, ':');
  Range r;
  r.key = key;
  if (parts.size() == 3 && (parts[0] == "log" || parts[0] == "int")) {
    r.kind = parts[0] == "log" ? Range::log_uniform : Range::integer;
    parts.erase(parts.begin());
  }
  const auto number = [&](const std::string& s) {
    try {
      size_t used = 0;
      const double v = std::stod(s, &used);
      if (used != s.size() || !std::isfinite(v)) throw std::invalid_argument(s);
      return v;
    } catch (const std::exception&) {
      throw UserError("--range " + printable(text, 80) + ": \"" + printable(s, 40) +
                      "\" is not a number (expected KEY=LO:HI, KEY=log:LO:HI or KEY=int:LO:HI)");
    }
  };
  if (parts.size() != 2) {
    throw UserError("--range " + printable(text, 80) + ": expected KEY=LO:HI, KEY=log:LO:HI or KEY=int:LO:HI");
  }
  r.lo = number(parts[0]);
  r.hi = number(parts[1]);
  if (!(r.lo < r.hi)) throw UserError("--range " + printable(text, 80) + ": LO must be below HI");
  if (r.kind == Range::log_uniform && r.lo <= 0) throw UserError("--range " + printable(text, 80) + ": log needs LO > 0");
  return r;
}

std::string draw(const Range& r, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double u = unit(rng);
  if (r.kind == Range::integer) {
    const auto lo = static_cast<int64_t>(std::ceil(r.lo)), hi = static_cast<int64_t>(std::floor(r.hi));
    return std::to_string(lo + static_cast<int64_t>(std::floor(u * static_cast<double>(hi - lo + 1))) % (hi - lo + 1));
  }
  const double v = r.kind == Range::log_uniform ? std::exp(std::log(r.lo) + u * (std::log(r.hi) - std::log(r.lo)))
                                                : r.lo + u * (r.hi - r.lo);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

using Assignments = std::vector<std::pair<std::string, std::string>>;

// What switches a section off, where it is not simply its `enabled` flag.
const std::map<std::string, Assignments>& section_neutrals() {
  static const std::map<std::string, Assignments> table = {
      {"trainer.ema", {{"trainer.ema.decay", "0"}}},
      {"trainer.mixup", {{"trainer.mixup.mixup_alpha", "0"}, {"trainer.mixup.cutmix_alpha", "0"}}},
      {"trainer.early_stopping", {{"trainer.early_stopping.metric", "\"\""}}},
  };
  return table;
}

}  // namespace

std::vector<std::string> PlannedRun::overrides() const {
  std::vector<std::string> out;
  for (const auto& [key, value] : varied) out.push_back(key + "=" + value);
  if (seed >= 0) out.push_back("run.seed=" + std::to_string(seed));
  return out;
}

std::vector<std::string> split_value_list(const std::string& text) {
  std::string body = trim(text);
  if (body.size() >= 2 && body.front() == '[' && body.back() == ']') body = body.substr(1, body.size() - 2);
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  char quote = 0;
  for (char c : body) {
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ',' && depth == 0) {
      items.push_back(trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  if (!trim(current).empty() || !items.empty()) items.push_back(trim(current));
  return items;
}

std::vector<std::pair<std::string, std::string>> neutral_assignments(const std::string& key, const RunConfig& base,
                                                                     const std::string& flag) {
  const std::vector<ConfigEntry> entries = flatten_config(base);
  const ConfigEntry* entry = find_entry(entries, key);
  Assignments out;
  if (!entry) {
    if (const auto it = section_neutrals().find(key); it != section_neutrals().end()) {
      out = it->second;
    } else if (find_entry(entries, key + ".enabled")) {
      out = {{key + ".enabled", "false"}};
    } else {
      unknown_key(flag, key, entries);
    }
  } else if (entry->type == "bool") {
    out = {{key, "false"}};
  } else if (entry->type == "int" || entry->type == "number") {
    out = {{key, "0"}};
  } else if (entry->type == "string") {
    out = {{key, "\"\""}};
  } else if (entry->type.rfind("list", 0) == 0) {
    out = {{key, "[]"}};
  } else {
    throw UserError(flag + " " + key + ": a choice has no \"off\" value; name the value to compare with: " + flag + " " +
                    key + "=VALUE");
  }
  // Already off in the base: the ablation would repeat the base run.
  bool all_off = true;
  for (const auto& [k, v] : out) {
    const ConfigEntry* e = find_entry(entries, k);
    const bool same = e && (e->value == v || (v == "0" && (e->value == "0.0" || e->value == "0")) ||
                            (v == "\"\"" && e->value == "\"\""));
    all_off = all_off && same;
  }
  if (all_off) throw UserError(flag + " " + key + ": already off in the base config; ablate a component it uses");
  return out;
}

std::vector<PlannedRun> plan_sweep(const SweepRequest& request, const RunConfig& base) {
  const std::vector<ConfigEntry> entries = flatten_config(base);
  std::set<std::string> varied_keys;
  const auto claim = [&](const std::string& flag, const std::string& key) {
    if (!find_entry(entries, key)) unknown_key(flag, key, entries);
    if (!varied_keys.insert(key).second) throw UserError(flag + " " + key + ": the key is varied twice");
  };

  // Grid points: the cartesian product, the first flag's values outermost.
  std::vector<Assignments> points{{}};
  for (const std::string& grid : request.grids) {
    const auto [key, values_text] = key_and_value("--grid", grid, true);
    claim("--grid", key);
    const std::vector<std::string> values = split_value_list(values_text);
    if (values.empty() || (values.size() == 1 && values[0].empty())) {
      throw UserError("--grid " + printable(grid, 80) + ": no values (expected KEY=[a,b,...])");
    }
    std::set<std::string> distinct;
    for (const std::string& v : values) {
      if (v.empty()) throw UserError("--grid " + printable(grid, 80) + ": an empty value");
      if (!distinct.insert(v).second) throw UserError("--grid " + printable(grid, 80) + ": " + v + " is listed twice");
    }
    std::vector<Assignments> next;
    for (const Assignments& p : points) {
      for (const std::string& v : values) {
        Assignments a = p;
        a.emplace_back(key, v);
        next.push_back(a);
      }
    }
    points = next;
  }

  // Random draws, each crossed with every grid point.
  if (!request.ranges.empty() && request.samples <= 0) throw UserError("--range needs --sample N (draws to make)");
  if (request.samples > 0 && request.ranges.empty()) throw UserError("--sample needs at least one --range KEY=LO:HI");
  if (request.samples > 0) {
    std::vector<Range> ranges;
    for (const std::string& text : request.ranges) {
      ranges.push_back(parse_range(text));
      claim("--range", ranges.back().key);
    }
    std::mt19937_64 rng(request.sample_seed);
    std::vector<Assignments> next;
    for (int64_t s = 0; s < request.samples; ++s) {
      Assignments drawn;
      for (const Range& r : ranges) drawn.emplace_back(r.key, draw(r, rng));
      for (const Assignments& p : points) {
        Assignments a = p;
        a.insert(a.end(), drawn.begin(), drawn.end());
        next.push_back(a);
      }
    }
    points = next;
  }

  // Ablations: each point as it is, then once per component switched off.
  struct Setting {
    Assignments varied;
    std::string ablated;
  };
  std::vector<Setting> settings;
  std::vector<std::pair<std::string, Assignments>> ablations;
  std::set<std::string> ablated_names;
  for (const std::string& text : request.ablations) {
    const auto [key, value] = key_and_value("--ablate", text, false);
    if (!ablated_names.insert(key).second) throw UserError("--ablate " + key + ": listed twice");
    if (varied_keys.count(key)) throw UserError("--ablate " + key + ": also varied by --grid or --range");
    Assignments a;
    if (value.empty() && text.find('=') == std::string::npos) {
      a = neutral_assignments(key, base, "--ablate");
    } else {
      if (!find_entry(entries, key)) unknown_key("--ablate", key, entries);
      if (value.empty()) throw UserError("--ablate " + key + "=: an empty value");
      a = {{key, value}};
    }
    ablations.emplace_back(key, a);
  }
  const auto ablation_size = [&](const std::string& key) {
    for (const auto& [k, a] : ablations) {
      if (k == key) return a.size();
    }
    return size_t{0};
  };
  for (const Assignments& p : points) {
    settings.push_back({p, ""});
    for (const auto& [key, a] : ablations) {
      Assignments v = p;
      v.insert(v.end(), a.begin(), a.end());
      settings.push_back({v, key});
    }
  }
  if (settings.size() == 1 && settings[0].varied.empty() && request.seeds.size() <= 1) {
    throw UserError("nothing to sweep: give --grid, --ablate, --sample or several --seeds");
  }

  std::set<int64_t> distinct_seeds(request.seeds.begin(), request.seeds.end());
  if (distinct_seeds.size() != request.seeds.size()) throw UserError("--seeds: a seed is listed twice");
  const std::vector<int64_t> seeds = request.seeds.empty() ? std::vector<int64_t>{-1} : request.seeds;
  std::vector<PlannedRun> runs;
  for (size_t s = 0; s < settings.size(); ++s) {
    // The grid point's values, then the component it goes without.
    std::string label;
    const size_t point_keys = settings[s].varied.size() - (settings[s].ablated.empty() ? 0 : ablation_size(settings[s].ablated));
    for (size_t k = 0; k < point_keys; ++k) {
      const std::string& value = settings[s].varied[k].second;
      const bool empty_text = value == "\"\"" || value == "''";
      label += (label.empty() ? "" : ",") + short_key(settings[s].varied[k].first) + "_" + (empty_text ? "none" : value);
    }
    if (!settings[s].ablated.empty()) label += (label.empty() ? "" : "-") + std::string("no-") + short_key(settings[s].ablated);
    if (label.empty()) label = "base";
    const std::string setting = padded(s + 1) + "-" + slug(label).substr(0, 60);
    for (int64_t seed : seeds) {
      PlannedRun run;
      run.setting = setting;
      run.varied = settings[s].varied;
      run.ablated = settings[s].ablated;
      run.seed = seed;
      run.id = setting + (seed >= 0 ? "-s" + std::to_string(seed) : "");
      runs.push_back(run);
    }
  }
  return runs;
}

}  // namespace stratum::experiments
