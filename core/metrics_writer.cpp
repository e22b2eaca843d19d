#include "core/metrics_writer.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace stratum {

double monotonic_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

MetricsWriter::MetricsWriter(const std::string& path) : start_seconds_(monotonic_seconds()) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw UserError(path + ": cannot open for writing: " + std::strerror(errno));
}

MetricsWriter::~MetricsWriter() {
  if (file_) std::fclose(file_);
}

void MetricsWriter::write(const MetricRecord& record) {
  if (!file_) return;
  nlohmann::ordered_json line;
  line["kind"] = record.kind;
  line["step"] = record.step;
  line["wall_time"] = monotonic_seconds() - start_seconds_;
  for (const auto& [key, value] : record.numbers) {
    // JSON has no NaN or infinity; write null so readers see the gap instead of a parse error.
    if (std::isfinite(value)) {
      line[key] = value;
    } else {
      line[key] = nullptr;
    }
  }
  for (const auto& [key, value] : record.texts) line[key] = value;
  const std::string text = line.dump() + "\n";
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

}  // namespace stratum
