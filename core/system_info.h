#pragma once
// Facts about the machine and libraries a run depends on, for `stratum info` and run logs.

#include <cstdint>
#include <string>

namespace stratum {

/// The BLAS library actually mapped into this process (e.g. ".../openblas-pthread/libblas.so.3
/// (OpenBLAS)"), else the one LibTorch was built with ("mkl, linked into LibTorch"), else
/// "none loaded". LibTorch's speed on the CPU depends on it.
std::string loaded_blas();

/// Peak resident set size of this process in bytes.
long peak_rss_bytes();

/// Memory a new allocation can have: /proc/meminfo's MemAvailable, lowered to what the
/// cgroup (v2 memory.max) still allows; 0 when neither can be read.
uint64_t available_memory_bytes();

}  // namespace stratum
