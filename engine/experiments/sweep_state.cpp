#include "engine/experiments/sweep_state.h"

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/read_file.h"
#include "core/sha256.h"
#include "core/text.h"

namespace stratum::experiments {
namespace {

constexpr const char* kStateNames[] = {"pending", "running", "finished", "failed", "interrupted"};

RunState parse_state_name(const std::string& name, const std::string& path) {
  for (int i = 0; i < 5; ++i) {
    if (name == kStateNames[i]) return static_cast<RunState>(i);
  }
  throw UserError(path + ": unknown run state \"" + printable(name, 40) + "\"");
}

}  // namespace

const char* run_state_name(RunState state) { return kStateNames[static_cast<int>(state)]; }

std::string SweepRun::run_dir() const {
  for (auto it = attempts.rbegin(); it != attempts.rend(); ++it) {
    if (!it->run_dir.empty()) return it->run_dir;
  }
  return "";
}

double SweepRun::seconds() const {
  double total = 0;
  for (const RunAttempt& a : attempts) total += a.seconds;
  return total;
}

std::string plan_fingerprint(const std::string& resolved_base, const std::vector<PlannedRun>& runs) {
  std::string text = resolved_base;
  for (const PlannedRun& r : runs) text += "\n" + r.id + "\t" + join(r.overrides(), "\t");
  return sha256_hex(text);
}

std::string sweep_state_json(const SweepState& state) {
  nlohmann::ordered_json out;
  out["format"] = 1;
  out["base_config"] = state.base_config;
  out["command"] = state.command;
  out["plan_sha256"] = state.plan_sha256;
  out["runs"] = nlohmann::ordered_json::array();
  for (const SweepRun& r : state.runs) {
    nlohmann::ordered_json j;
    j["id"] = r.plan.id;
    j["setting"] = r.plan.setting;
    j["seed"] = r.plan.seed;
    j["ablated"] = r.plan.ablated;
    j["varied"] = nlohmann::ordered_json::array();
    for (const auto& [k, v] : r.plan.varied) j["varied"].push_back({k, v});
    j["state"] = run_state_name(r.state);
    j["exit_code"] = r.exit_code;
    j["pid"] = r.pid;
    j["run_dir"] = r.run_dir();
    j["seconds"] = r.seconds();
    j["attempts"] = nlohmann::ordered_json::array();
    for (const RunAttempt& a : r.attempts) {
      j["attempts"].push_back(
          {{"run_dir", a.run_dir}, {"seconds", a.seconds}, {"exit_code", a.exit_code}, {"resumed", a.resumed}});
    }
    out["runs"].push_back(j);
  }
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

SweepState read_sweep_state(const std::string& path) {
  const std::optional<std::string> text = read_file(path);
  if (!text) throw UserError(path + ": cannot read");
  const nlohmann::json json = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("format") || json["format"] != 1 || !json.contains("runs")) {
    throw UserError(path + ": not a sweep.json of this Stratum (expected {\"format\": 1, \"runs\": [...]})");
  }
  SweepState state;
  try {
    state.base_config = json.at("base_config").get<std::string>();
    state.command = json.at("command").get<std::vector<std::string>>();
    state.plan_sha256 = json.at("plan_sha256").get<std::string>();
    for (const auto& j : json.at("runs")) {
      SweepRun r;
      r.plan.id = j.at("id").get<std::string>();
      r.plan.setting = j.at("setting").get<std::string>();
      r.plan.seed = j.at("seed").get<int64_t>();
      r.plan.ablated = j.at("ablated").get<std::string>();
      for (const auto& kv : j.at("varied")) r.plan.varied.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
      r.state = parse_state_name(j.at("state").get<std::string>(), path);
      r.exit_code = j.at("exit_code").get<int>();
      r.pid = j.at("pid").get<int64_t>();
      for (const auto& a : j.at("attempts")) {
        r.attempts.push_back({a.at("run_dir").get<std::string>(), a.at("seconds").get<double>(),
                              a.at("exit_code").get<int>(), a.at("resumed").get<bool>()});
      }
      state.runs.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    throw UserError(path + ": corrupt sweep state (" + first_line(e.what()) + ")");
  }
  return state;
}

}  // namespace stratum::experiments
