#include "core/version.h"

namespace stratum {

const char* stratum_version() { return STRATUM_VERSION; }

}  // namespace stratum
