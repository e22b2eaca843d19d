#pragma once
// What drift monitoring reports: threshold crossings and per-window statistics.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// One threshold crossing.
struct DriftEvent {
  int64_t record = 0;     ///< stream position (records observed) when the window closed
  std::string statistic;  ///< "tv", "psi", "ks", "wasserstein"
  std::string subject;    ///< "labels" or "feature N"
  double value = 0;
  double threshold = 0;
};

/// The statistics of one closed window against the reference.
struct DriftWindow {
  int64_t end_record = 0;
  double tv = 0, psi = 0;
  double max_ks = 0, max_wasserstein = 0;  ///< over features
  std::vector<int64_t> label_counts;
};

}  // namespace stratum::data
