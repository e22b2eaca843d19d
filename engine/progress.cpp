#include "engine/progress.h"

#include <cstdio>

#include "core/text.h"

namespace stratum {

std::string Progress::line(int64_t step, double loss, double lr, double throughput, double now_seconds) const {
  char buf[256];
  if (total_ <= 0) {  // an open-ended (continuous) run
    std::snprintf(buf, sizeof buf, "step %lld | loss %.4f | lr %.2e | %.0f %s/s | %s", static_cast<long long>(step), loss, lr,
                  throughput, unit_.c_str(), format_duration(now_seconds - start_).c_str());
    return buf;
  }
  const double elapsed = now_seconds - start_;
  const double eta = step > 0 ? elapsed / static_cast<double>(step) * static_cast<double>(total_ - step) : 0;
  std::snprintf(buf, sizeof buf, "step %lld/%lld | loss %.4f | lr %.2e | %.0f %s/s | ETA %s",
                static_cast<long long>(step), static_cast<long long>(total_), loss, lr, throughput, unit_.c_str(),
                format_duration(eta).c_str());
  return buf;
}

}  // namespace stratum
