#include "core/error.h"

namespace stratum::detail {

void internal_check_failed(const char* file, int line, const char* condition,
                           const std::string& message) {
  throw InternalError(std::string(file) + ":" + std::to_string(line) + ": check `" + condition +
                      "` failed: " + message);
}

}  // namespace stratum::detail
