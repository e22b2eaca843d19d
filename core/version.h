#pragma once
// Stratum's own version (from the top-level CMake project).

namespace stratum {

/// e.g. "0.1.0".
const char* stratum_version();

}  // namespace stratum
