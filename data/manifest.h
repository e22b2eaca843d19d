#pragma once
// manifest.json: what a run read and what it kept, so a run can be reproduced and audited
// without the source code.

#include <cstdint>
#include <string>

#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// The manifest of `data` as JSON: every source file's path, size and sha256 with records
/// read / accepted / rejected; per-label counts per split; the reservoir parameters and
/// what the sampler did; the seed and the Stratum version.
std::string manifest_json(const SplitData& data, const DataOptions& options, uint64_t seed);

}  // namespace stratum::data
