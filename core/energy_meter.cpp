#include "core/energy_meter.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/text.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

std::optional<double> read_number(const fs::path& path) {
  std::ifstream in(path);
  double value = 0;
  if (!(in >> value)) return std::nullopt;
  return value;
}

std::string read_word(const fs::path& path) {
  std::ifstream in(path);
  std::string word;
  std::getline(in, word);
  return word;
}

// One RAPL domain: energy_uj counts microjoules and wraps at max_energy_range_uj.
class RaplCounter : public EnergyCounter {
 public:
  RaplCounter(fs::path dir, std::string name, double range_uj)
      : dir_(std::move(dir)), name_(std::move(name)), range_uj_(range_uj) {}
  std::string name() const override { return "RAPL " + name_; }
  std::optional<double> read_joules() override {
    const auto uj = read_number(dir_ / "energy_uj");
    if (!uj) return std::nullopt;
    return *uj * 1e-6;
  }
  double wrap_joules() const override { return range_uj_ * 1e-6; }

 private:
  fs::path dir_;
  std::string name_;
  double range_uj_;
};

// NVML's C API, the few calls used (signatures from nvml.h; loaded at run time).
using NvmlReturn = int;
using NvmlDevice = void*;
struct Nvml {
  void* library = nullptr;
  NvmlReturn (*init)() = nullptr;
  NvmlReturn (*count)(unsigned*) = nullptr;
  NvmlReturn (*handle)(unsigned, NvmlDevice*) = nullptr;
  NvmlReturn (*energy)(NvmlDevice, unsigned long long*) = nullptr;

  static Nvml* load(std::string& reason) {
    static Nvml nvml;
    static std::string failure;
    static bool tried = false;
    if (!tried) {
      tried = true;
      nvml.library = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
      if (!nvml.library) {
        failure = "no NVML (libnvidia-ml.so.1 not found: no NVIDIA driver)";
      } else {
        nvml.init = reinterpret_cast<NvmlReturn (*)()>(dlsym(nvml.library, "nvmlInit_v2"));
        nvml.count = reinterpret_cast<NvmlReturn (*)(unsigned*)>(dlsym(nvml.library, "nvmlDeviceGetCount_v2"));
        nvml.handle = reinterpret_cast<NvmlReturn (*)(unsigned, NvmlDevice*)>(dlsym(nvml.library, "nvmlDeviceGetHandleByIndex_v2"));
        nvml.energy = reinterpret_cast<NvmlReturn (*)(NvmlDevice, unsigned long long*)>(
            dlsym(nvml.library, "nvmlDeviceGetTotalEnergyConsumption"));
        if (!nvml.init || !nvml.count || !nvml.handle || !nvml.energy) {
          failure = "NVML lacks the energy counter (driver older than Volta's)";
        } else if (nvml.init() != 0) {
          failure = "NVML did not initialize (nvmlInit_v2 failed)";
        }
      }
    }
    reason = failure;
    return failure.empty() ? &nvml : nullptr;
  }
};

// A GPU's total energy since the driver loaded, in millijoules (64-bit: no wrap).
class NvmlCounter : public EnergyCounter {
 public:
  NvmlCounter(Nvml* nvml, NvmlDevice device, unsigned index) : nvml_(nvml), device_(device), index_(index) {}
  std::string name() const override { return "NVML GPU " + std::to_string(index_); }
  std::optional<double> read_joules() override {
    unsigned long long mj = 0;
    if (nvml_->energy(device_, &mj) != 0) return std::nullopt;
    return static_cast<double>(mj) * 1e-3;
  }
  double wrap_joules() const override { return 0; }

 private:
  Nvml* nvml_;
  NvmlDevice device_;
  unsigned index_;
};

}  // namespace

std::vector<std::unique_ptr<EnergyCounter>> rapl_counters(const std::string& root, std::string& reason) {
  std::vector<std::unique_ptr<EnergyCounter>> out;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    reason = "no RAPL counters (" + root + " does not exist)";
    return out;
  }
  std::vector<fs::path> domains;
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string name = entry.path().filename().string();
    // Top-level package domains only: "intel-rapl:0" (not its subdomains "intel-rapl:0:0", which
    // the package already counts; not "psys", which overlaps them).
    if (name.rfind("intel-rapl:", 0) == 0 && std::count(name.begin(), name.end(), ':') == 1) domains.push_back(entry.path());
  }
  std::sort(domains.begin(), domains.end());
  bool unreadable = false;
  for (const fs::path& dir : domains) {
    const std::string label = read_word(dir / "name");
    if (label == "psys") continue;
    if (!read_number(dir / "energy_uj")) {
      unreadable = true;
      continue;
    }
    out.push_back(std::make_unique<RaplCounter>(dir, label.empty() ? dir.filename().string() : label,
                                                read_number(dir / "max_energy_range_uj").value_or(0)));
  }
  if (out.empty()) {
    reason = domains.empty() ? "no RAPL package domains under " + root
                             : "RAPL counters under " + root + " are not readable" +
                                   std::string(unreadable ? " (energy_uj is root-only on most kernels)" : "");
  }
  return out;
}

std::vector<std::unique_ptr<EnergyCounter>> nvml_counters(std::string& reason) {
  std::vector<std::unique_ptr<EnergyCounter>> out;
  Nvml* nvml = Nvml::load(reason);
  if (!nvml) return out;
  unsigned count = 0;
  if (nvml->count(&count) != 0 || count == 0) {
    reason = "NVML sees no GPU";
    return out;
  }
  std::vector<unsigned> wanted;
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES"); visible && *visible) {
    for (const std::string& part : split(visible, ',')) {
      char* end = nullptr;
      const unsigned long index = std::strtoul(part.c_str(), &end, 10);
      if (end == part.c_str() || *end != '\0') {
        wanted.clear();  // UUIDs: measure every GPU rather than guess
        break;
      }
      if (index < count) wanted.push_back(static_cast<unsigned>(index));
    }
  }
  if (wanted.empty()) {
    for (unsigned i = 0; i < count; ++i) wanted.push_back(i);
  }
  for (const unsigned i : wanted) {
    NvmlDevice device = nullptr;
    unsigned long long probe = 0;
    if (nvml->handle(i, &device) != 0 || nvml->energy(device, &probe) != 0) continue;
    out.push_back(std::make_unique<NvmlCounter>(nvml, device, i));
  }
  if (out.empty()) reason = "NVML's energy counter is not supported on these GPUs";
  return out;
}

std::unique_ptr<EnergyMeter> EnergyMeter::open(const std::string& powercap_root, bool gpus) {
  std::string rapl_reason, nvml_reason;
  std::vector<std::unique_ptr<EnergyCounter>> counters = rapl_counters(powercap_root, rapl_reason);
  if (gpus) {
    for (auto& c : nvml_counters(nvml_reason)) counters.push_back(std::move(c));
  }
  std::string reason;
  if (counters.empty()) reason = rapl_reason + (gpus ? "; " + nvml_reason : "");
  return std::make_unique<EnergyMeter>(std::move(counters), reason);
}

EnergyMeter::EnergyMeter(std::vector<std::unique_ptr<EnergyCounter>> counters, std::string unavailable_reason,
                         double sample_seconds)
    : counters_(std::move(counters)), reason_(std::move(unavailable_reason)) {
  for (auto& c : counters_) {
    last_.push_back(c->read_joules().value_or(0));
    total_.push_back(0);
  }
  if (counters_.empty()) return;
  sampler_ = std::thread([this, sample_seconds] {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!wake_.wait_for(lock, std::chrono::duration<double>(sample_seconds), [this] { return stopping_; })) {
      sample_locked();
    }
  });
}

EnergyMeter::~EnergyMeter() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (sampler_.joinable()) sampler_.join();
}

void EnergyMeter::sample_locked() {
  for (size_t i = 0; i < counters_.size(); ++i) {
    const auto now = counters_[i]->read_joules();
    if (!now) continue;
    double delta = *now - last_[i];
    // A counter that went down wrapped once (the sampler reads far more often than it can wrap twice).
    if (delta < 0) delta += counters_[i]->wrap_joules() > 0 ? counters_[i]->wrap_joules() : 0;
    if (delta > 0) total_[i] += delta;
    last_[i] = *now;
  }
}

std::optional<double> EnergyMeter::joules() {
  if (counters_.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(mutex_);
  sample_locked();
  double sum = 0;
  for (double t : total_) sum += t;
  return sum;
}

std::string EnergyMeter::describe() const {
  std::vector<std::string> names;
  for (const auto& c : counters_) names.push_back(c->name());
  return join(names, " + ");
}

}  // namespace stratum
