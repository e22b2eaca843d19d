// `stratum data diff RUN_A RUN_B`: what differs between the data two runs trained and were
// evaluated on: dataset versions, source files, labels, per-split counts, redaction and the data
// section of their configs.

#include <cstdio>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/read_file.h"
#include "core/text.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/config.h"

namespace fs = std::filesystem;

namespace stratum::cli {
namespace {

using json = nlohmann::json;

struct RunData {
  std::string dir;
  json manifest;
  std::vector<ConfigEntry> config;  // data.* keys only (empty without config.resolved.yaml)
};

RunData read_run(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw UserError(dir + ": not a run directory");
  RunData r{dir, json::parse(read_file(dir + "/manifest.json").value_or(""), nullptr, false), {}};
  if (!r.manifest.is_object()) throw UserError(dir + "/manifest.json: missing or not a JSON object");
  if (fs::exists(dir + "/config.resolved.yaml", ec)) {
    for (const ConfigEntry& e : flatten_config(load_config(dir + "/config.resolved.yaml"))) {
      if (e.key.rfind("data.", 0) == 0) r.config.push_back(e);
    }
  }
  return r;
}

std::string text(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

// path -> sha256 of a manifest's files (a mix's files carry their source's name in the role).
std::map<std::string, std::string> files_of(const json& manifest) {
  std::map<std::string, std::string> out;
  if (!manifest.contains("files") || !manifest["files"].is_array()) return out;
  for (const json& f : manifest["files"]) out[text(f, "role") + " " + text(f, "path")] = text(f, "sha256");
  return out;
}

// split -> label -> examples.
std::map<std::string, std::map<std::string, int64_t>> counts_of(const json& manifest) {
  std::map<std::string, std::map<std::string, int64_t>> out;
  const json names = manifest.contains("class_names") && manifest["class_names"].is_array() ? manifest["class_names"]
                                                                                           : json::array();
  if (!manifest.contains("label_counts") || !manifest["label_counts"].is_object()) return out;
  for (auto it = manifest["label_counts"].begin(); it != manifest["label_counts"].end(); ++it) {
    if (!it.value().is_array()) continue;
    for (size_t i = 0; i < it.value().size(); ++i) {
      const std::string name = i < names.size() && names[i].is_string() ? names[i].get<std::string>() : std::to_string(i);
      if (it.value()[i].is_number_integer()) out[it.key()][name] = it.value()[i].get<int64_t>();
    }
  }
  return out;
}

std::set<std::string> labels_of(const json& manifest) {
  std::set<std::string> out;
  if (manifest.contains("class_names") && manifest["class_names"].is_array()) {
    for (const json& n : manifest["class_names"]) {
      if (n.is_string()) out.insert(n.get<std::string>());
    }
  }
  return out;
}

std::string signed_count(int64_t d) { return (d > 0 ? "+" : "") + std::to_string(d); }

}  // namespace

int data_diff_command(const Args& args) {
  std::vector<std::string> runs;
  std::string max_lines_text = "50";
  ArgParser parser("stratum data diff", "RUN_A RUN_B [--max-lines N]",
                   "What differs between the data of two runs: dataset versions, source files (by SHA-256), labels, "
                   "per-split counts per label, records read / accepted / rejected, redaction, and the data section "
                   "of their configs. Exit 0 either way; the first line says whether the versions match.");
  parser.option("--max-lines", "N", "most lines per section (default 50)", &max_lines_text);
  parser.positionals(&runs);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (runs.size() != 2) throw UserError("stratum data diff: expected two run directories, got " + std::to_string(runs.size()));
  const auto max_lines = static_cast<size_t>(parse_count_flag("--max-lines", max_lines_text, 1));
  const RunData a = read_run(runs[0]), b = read_run(runs[1]);
  const std::string va = text(a.manifest, "dataset_version"), vb = text(b.manifest, "dataset_version");
  std::printf("%s dataset versions: A %s (%s), B %s (%s)\n", va == vb && !va.empty() ? "same" : "different",
              va.empty() ? "unknown" : va.c_str(), a.dir.c_str(), vb.empty() ? "unknown" : vb.c_str(), b.dir.c_str());

  const auto section = [&](const std::string& title, const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    std::printf("%s:\n", title.c_str());
    for (size_t i = 0; i < lines.size() && i < max_lines; ++i) std::printf("  %s\n", lines[i].c_str());
    if (lines.size() > max_lines) std::printf("  ... and %zu more\n", lines.size() - max_lines);
  };

  std::vector<std::string> files;
  const auto fa = files_of(a.manifest), fb = files_of(b.manifest);
  std::map<std::string, std::string> by_hash_b;
  for (const auto& [name, sha] : fb) by_hash_b[sha] = name;
  for (const auto& [name, sha] : fa) {
    const auto other = fb.find(name);
    if (other == fb.end()) {
      const auto moved = by_hash_b.find(sha);
      files.push_back(moved != by_hash_b.end() && !fa.count(moved->second) ? "moved: " + name + " -> " + moved->second + " (same bytes)"
                                                                          : "only in A: " + name);
    } else if (other->second != sha) {
      files.push_back("changed: " + name + ": sha256 " + sha.substr(0, 12) + " -> " + other->second.substr(0, 12));
    }
  }
  for (const auto& [name, sha] : fb) {
    bool moved = false;
    for (const auto& [name_a, sha_a] : fa) moved = moved || (sha_a == sha && !fb.count(name_a));
    if (!fa.count(name) && !moved) files.push_back("only in B: " + name);
  }
  section("source files", files);

  std::vector<std::string> labels;
  const auto la = labels_of(a.manifest), lb = labels_of(b.manifest);
  for (const auto& l : la) {
    if (!lb.count(l)) labels.push_back("only in A: " + l);
  }
  for (const auto& l : lb) {
    if (!la.count(l)) labels.push_back("only in B: " + l);
  }
  section("labels", labels);

  std::vector<std::string> counts;
  auto ca = counts_of(a.manifest), cb = counts_of(b.manifest);
  for (const char* split : {"seen", "validation", "unseen"}) {
    std::set<std::string> names;
    for (const auto& [n, c] : ca[split]) names.insert(n);
    for (const auto& [n, c] : cb[split]) names.insert(n);
    for (const std::string& n : names) {
      const int64_t x = ca[split].count(n) ? ca[split][n] : 0, y = cb[split].count(n) ? cb[split][n] : 0;
      if (x != y) counts.push_back(std::string(split) + " " + n + ": " + std::to_string(x) + " -> " + std::to_string(y) + " (" + signed_count(y - x) + ")");
    }
  }
  for (const char* key : {"records_read", "records_accepted", "records_rejected"}) {
    if (text(a.manifest, key) != text(b.manifest, key)) {
      counts.push_back(std::string(key) + ": " + text(a.manifest, key) + " -> " + text(b.manifest, key));
    }
  }
  section("counts", counts);

  std::vector<std::string> redaction;
  const json ra = a.manifest.contains("redaction") ? a.manifest["redaction"] : json(), rb = b.manifest.contains("redaction") ? b.manifest["redaction"] : json();
  if (text(ra, "policy") != text(rb, "policy")) {
    redaction.push_back("policy: " + (ra.is_null() ? std::string("none") : text(ra, "policy")) + " -> " +
                        (rb.is_null() ? std::string("none") : text(rb, "policy")));
  }
  if (text(ra, "findings") != text(rb, "findings")) {
    redaction.push_back("findings: " + (text(ra, "findings").empty() ? "none" : text(ra, "findings")) + " -> " +
                        (text(rb, "findings").empty() ? "none" : text(rb, "findings")));
  }
  section("redaction", redaction);

  std::vector<std::string> config;
  std::map<std::string, std::string> ka, kb;
  for (const ConfigEntry& e : a.config) ka[e.key] = e.value;
  for (const ConfigEntry& e : b.config) kb[e.key] = e.value;
  for (const auto& [key, value] : ka) {
    const auto other = kb.find(key);
    if (other == kb.end()) {
      config.push_back(key + ": " + value + " -> (absent)");
    } else if (other->second != value) {
      config.push_back(key + ": " + value + " -> " + other->second);
    }
  }
  for (const auto& [key, value] : kb) {
    if (!ka.count(key)) config.push_back(key + ": (absent) -> " + value);
  }
  section("data config", config);
  if (files.empty() && labels.empty() && counts.empty() && redaction.empty() && config.empty()) {
    std::printf("no differences in files, labels, counts, redaction or data config\n");
  }
  return kExitOk;
}

}  // namespace stratum::cli
