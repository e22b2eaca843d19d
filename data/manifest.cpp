#include "data/manifest.h"

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "core/version.h"
#include "data/dataset_version.h"
#include "data/redaction/redactor.h"

namespace stratum::data {
namespace {

// A file's entry. A regular file is hashed whole (from the bytes its source read when that
// reached the end, else from disk); anything else (standard input, a FIFO, a device) is never
// opened a second time: its entry pins the bytes that were read.
nlohmann::ordered_json file_json(const SourceFile& f) {
  const bool stdin_stream = f.path == "-";
  std::error_code ec;
  const bool regular = !stdin_stream && std::filesystem::is_regular_file(f.path, ec);
  nlohmann::ordered_json bytes, sha256, hashed;
  if (regular && f.read_to_end && !f.sha256.empty()) {
    bytes = f.bytes_read, sha256 = f.sha256, hashed = "whole file";
  } else if (regular) {
    const auto size = std::filesystem::file_size(f.path, ec);
    if (!ec) bytes = size;
    sha256 = sha256_file(f.path), hashed = "whole file";
  } else if (!f.sha256.empty()) {
    bytes = f.bytes_read, sha256 = f.sha256, hashed = f.read_to_end ? "stream, to its end" : "stream, bytes read";
  }
  nlohmann::ordered_json entry = {{"role", f.role},
                                  {"path", stdin_stream ? "<stdin>" : f.path},
                                  {"bytes", bytes},
                                  {"sha256", sha256},
                                  {"hashed", hashed},
                                  {"records_read", f.records_read},
                                  {"records_accepted", f.records_accepted},
                                  {"records_rejected", f.records_rejected}};
  if (f.blank_lines > 0) entry["blank_lines"] = f.blank_lines;
  return entry;
}

}  // namespace

std::string manifest_json(const SplitData& data, const DataOptions& options, uint64_t seed) {
  nlohmann::ordered_json out;
  out["stratum_version"] = stratum_version();
  out["seed"] = seed;
  out["source"] = options.source;
  out["files"] = nlohmann::ordered_json::array();
  for (const SourceFile& f : data.files) {
    out["files"].push_back(file_json(f));
  }
  std::vector<std::string> hashes;
  for (const auto& f : out["files"]) hashes.push_back(f["sha256"].is_string() ? f["sha256"].get<std::string>() : "unhashed");
  out["dataset_version"] = dataset_version(hashes, options);
  out["records_read"] = data.records_read;
  out["records_accepted"] = data.records_accepted;
  out["records_rejected"] = data.records_rejected;
  out["blank_lines"] = data.blank_lines;
  out["class_names"] = data.spec.class_names;
  out["label_counts"] = data.label_counts;
  out["unseen"] = data.unseen_description;
  const ReservoirOptions& r = options.reservoir;
  out["reservoir"] = {{"min_per_label", r.min_per_label},
                      {"max_per_label", r.max_per_label},
                      {"label_share_cap", r.label_share_cap},
                      {"max_items", r.max_items},
                      {"max_bytes", r.max_bytes},
                      {"decay", r.decay},
                      {"multi_label", choice_name(r.multi_label)},
                      {"dedup", choice_name(r.dedup)},
                      {"offered", data.sampler.offered},
                      {"entered", data.sampler.entered},
                      {"duplicates", data.sampler.duplicates},
                      {"evicted", data.sampler.evicted},
                      {"rebalances", data.sampler.rebalances}};
  // The most frequent label pairs of multi-label records, for analysis.
  std::vector<std::pair<std::pair<int32_t, int32_t>, int64_t>> pairs(data.cooccurrence.begin(), data.cooccurrence.end());
  std::stable_sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  out["label_cooccurrence"] = nlohmann::ordered_json::array();
  const auto name = [&](int32_t id) {
    return id >= 0 && static_cast<size_t>(id) < data.spec.class_names.size() ? data.spec.class_names[id]
                                                                             : std::to_string(id);
  };
  for (size_t i = 0; i < pairs.size() && i < 50; ++i) {
    out["label_cooccurrence"].push_back(
        {{"labels", {name(pairs[i].first.first), name(pairs[i].first.second)}}, {"records", pairs[i].second}});
  }
  if (options.redact.active()) {
    // Counts per detector, never the values found.
    out["redaction"] = {{"policy", nlohmann::ordered_json::parse(redaction_policy_json(options.redact))},
                        {"findings", data.redaction.findings},
                        {"records_changed", data.redaction.records_changed},
                        {"records_dropped", data.redaction.records_dropped}};
  }
  out["validation_fraction"] = options.validation_fraction;
  out["max_reject_fraction"] = options.max_reject_fraction;
  return out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace stratum::data
