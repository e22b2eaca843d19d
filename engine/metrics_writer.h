#pragma once
// metrics.jsonl: one JSON object per line, appended and flushed as the run goes, so a
// crashed run still leaves every record written before the crash.

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace stratum {

class TensorBoardWriter;

/// One line of metrics.jsonl: what kind of record, at which step, and its values.
struct MetricRecord {
  std::string kind;  ///< "train", "eval", "event", ...
  int64_t step = 0;
  std::vector<std::pair<std::string, double>> numbers;
  std::vector<std::pair<std::string, std::string>> texts;

  MetricRecord& add(std::string key, double value) {
    numbers.emplace_back(std::move(key), value);
    return *this;
  }
  MetricRecord& add(std::string key, std::string value) {
    texts.emplace_back(std::move(key), std::move(value));
    return *this;
  }
};

/// Appends MetricRecords to a JSONL file; each line carries the wall time since the writer opened.
class MetricsWriter {
 public:
  MetricsWriter();
  explicit MetricsWriter(const std::string& path);
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  /// Writes one record as a JSON line and flushes it. A writer without a file drops records
  /// (non-zero ranks in multi-process runs). With TensorBoard attached, every number of a
  /// train or eval record also becomes a scalar "<kind>/[<split>/]<key>" at the record's step.
  void write(const MetricRecord& record);

  /// Mirrors records into TensorBoard event files under `dir` (created if missing).
  void attach_tensorboard(const std::string& dir);

 private:
  std::FILE* file_ = nullptr;
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  double start_seconds_ = 0;
};

/// Seconds on a monotonic clock.
double monotonic_seconds();

}  // namespace stratum
