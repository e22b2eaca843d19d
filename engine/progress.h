#pragma once
// The console progress line: step/total, loss, learning rate, throughput and ETA.

#include <cstdint>
#include <string>

namespace stratum {

/// Formats progress lines for a run of `total_steps` that started at `start_seconds`.
class Progress {
 public:
  Progress(int64_t total_steps, double start_seconds, std::string unit)
      : total_(total_steps), start_(start_seconds), unit_(std::move(unit)) {}

  /// "step 120/1000 | loss 0.4123 | lr 9.8e-04 | 2310 samples/s | ETA 3m05s"
  std::string line(int64_t step, double loss, double lr, double throughput, double now_seconds) const;

 private:
  int64_t total_;
  double start_;
  std::string unit_;
};

}  // namespace stratum
