#pragma once
// Checks that need more than the config's own rules (registered names, features this build
// has), run before any data is read, model built or process group created.

#include "engine/config.h"

namespace stratum {

namespace data {
struct DataSpec;
}  // namespace data

class Registry;

/// Throws UserError naming the key, file and line of the first problem found.
void preflight(const RunConfig& config, const Registry& registry);

/// The checks that need the data's shape, run after the data is read and before the model is
/// built: the model's classes cover the data's labels, and the model and its batches fit in
/// this machine's memory.
void check_against_data(const RunConfig& config, const Registry& registry, const data::DataSpec& spec);

}  // namespace stratum
