#include "core/thread_environment.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "core/system_info.h"

namespace stratum {

void settle_thread_environment(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  if (loaded_blas().find("OpenBLAS") == std::string::npos) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // only returns on failure: carry on as we are
}

}  // namespace stratum
