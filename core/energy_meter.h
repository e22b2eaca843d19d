#pragma once
// Energy used while a run works, from the hardware's own counters: RAPL package domains
// (/sys/class/powercap/intel-rapl*, CPUs) and NVML's total-energy counter (NVIDIA GPUs, loaded
// with dlopen so the binary runs where there is no driver). Where neither can be read the meter
// says why and reports nothing: never an estimate.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <condition_variable>
#include <vector>

namespace stratum {

/// One cumulative hardware counter in joules, read with wrap-around handled.
class EnergyCounter {
 public:
  virtual ~EnergyCounter() = default;
  virtual std::string name() const = 0;
  /// The counter's raw value in joules, or nothing when a read fails.
  virtual std::optional<double> read_joules() = 0;
  /// Where the raw value wraps to zero (0: it never does within a run).
  virtual double wrap_joules() const = 0;
};

/// The RAPL package domains under `root` (normally /sys/class/powercap) whose energy_uj is
/// readable; `reason` says why there are none.
std::vector<std::unique_ptr<EnergyCounter>> rapl_counters(const std::string& root, std::string& reason);

/// The NVIDIA GPUs NVML sees (those in CUDA_VISIBLE_DEVICES when it lists indices); `reason`
/// says why there are none.
std::vector<std::unique_ptr<EnergyCounter>> nvml_counters(std::string& reason);

/// Joules used since it started, summed over its counters; a background thread samples them
/// often enough that no counter wraps twice unseen.
class EnergyMeter {
 public:
  /// Reads RAPL under `powercap_root` and, with `gpus`, NVML.
  static std::unique_ptr<EnergyMeter> open(const std::string& powercap_root = "/sys/class/powercap", bool gpus = true);
  explicit EnergyMeter(std::vector<std::unique_ptr<EnergyCounter>> counters, std::string unavailable_reason = "",
                       double sample_seconds = 5.0);
  ~EnergyMeter();
  EnergyMeter(const EnergyMeter&) = delete;
  EnergyMeter& operator=(const EnergyMeter&) = delete;

  bool available() const { return !counters_.empty(); }
  /// Why nothing is measured ("" when something is).
  const std::string& unavailable_reason() const { return reason_; }
  /// "RAPL package-0 + NVML GPU 0" and the like.
  std::string describe() const;
  /// Joules since the meter started (nothing when unavailable).
  std::optional<double> joules();

 private:
  void sample_locked();

  std::vector<std::unique_ptr<EnergyCounter>> counters_;
  std::vector<double> last_, total_;
  std::string reason_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread sampler_;
};

}  // namespace stratum
