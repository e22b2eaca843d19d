#include "data/reject_log.h"

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace stratum::data {

RejectLog::RejectLog(const std::string& path, bool append) : path_(path) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  if (!file_) throw UserError(path + ": cannot open for writing: " + std::strerror(errno));
}

RejectLog::~RejectLog() {
  if (file_) std::fclose(file_);
}

void RejectLog::reject(const std::string& source, uint64_t offset, const std::string& reason, int64_t records,
                       uint64_t line_number) {
  if (line_number > 0) {
    record(source, " line " + std::to_string(line_number) + " (byte " + std::to_string(offset) + ")", reason, records,
           {{"offset", offset}, {"line", line_number}});
  } else {
    record(source, " at offset " + std::to_string(offset), reason, records, {{"offset", offset}});
  }
}

void RejectLog::drop_by_policy(const std::string& source, uint64_t offset, uint64_t line_number,
                               const std::string& reason) {
  std::vector<std::pair<const char*, uint64_t>> position{{"offset", offset}};
  if (line_number > 0) position.push_back({"line", line_number});
  record(source, "", reason, 1, position, /*by_policy=*/true);
}

void RejectLog::reject_row(const std::string& source, uint64_t row, const std::string& reason) {
  record(source, " row " + std::to_string(row), reason, 1, {{"row", row}});
}

void RejectLog::record(const std::string& source, const std::string& where, const std::string& reason, int64_t records,
                       const std::vector<std::pair<const char*, uint64_t>>& position, bool by_policy) {
  total_ += records;
  by_source_[source] += records;
  if (by_policy) dropped_by_policy_ += records;
  if (first_.empty() && !by_policy) first_ = source + where + ": " + reason;
  if (!file_) return;
  nlohmann::ordered_json line;
  line["source"] = source;
  for (const auto& [key, value] : position) line[key] = value;
  line["reason"] = reason;
  line["records"] = records;
  if (by_policy) line["policy"] = true;
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    throw UserError(path_ + ": cannot record a rejected record: " + std::strerror(errno));
  }
}

void RejectLog::check_budget(int64_t accepted, double max_fraction) const {
  const int64_t counted = total_ - dropped_by_policy_;
  if (counted == 0) return;
  const double fraction = static_cast<double>(counted) / static_cast<double>(total_ + accepted);
  if (fraction <= max_fraction) return;
  char share[64];
  std::snprintf(share, sizeof share, "%.2f%% > data.max_reject_fraction %.2f%%", 100 * fraction, 100 * max_fraction);
  throw UserError("data: " + std::to_string(counted) + " of " + std::to_string(total_ + accepted) +
                  " records rejected (" + share + "); first: " + first_ +
                  (path_.empty() ? "" : "; all in " + path_));
}

}  // namespace stratum::data
