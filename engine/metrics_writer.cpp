#include "engine/metrics_writer.h"

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "engine/tensorboard_writer.h"

namespace stratum {

double monotonic_seconds() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

MetricsWriter::MetricsWriter() = default;

MetricsWriter::MetricsWriter(const std::string& path) : start_seconds_(monotonic_seconds()) {
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) throw UserError(path + ": cannot open for writing: " + std::strerror(errno));
}

MetricsWriter::~MetricsWriter() {
  if (file_) std::fclose(file_);
}

void MetricsWriter::attach_tensorboard(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw UserError(dir + ": cannot create the TensorBoard folder: " + ec.message());
  tensorboard_ = std::make_unique<TensorBoardWriter>(dir);
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
  const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
  if (!tensorboard_ || (record.kind != "train" && record.kind != "eval" && record.kind != "prequential")) return;
  std::string prefix = record.kind + "/";
  for (const auto& [key, value] : record.texts) {
    if (key == "split") prefix += value + "/";
  }
  for (const auto& [key, value] : record.numbers) {
    if (std::isfinite(value)) tensorboard_->scalar(prefix + key, value, record.step);
  }
}

}  // namespace stratum
