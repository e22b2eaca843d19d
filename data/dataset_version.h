#pragma once
// A dataset version: a content address for what a run trained and evaluated on, so two runs can
// say "same data" without comparing files, and the audit ledger can name the data of every run.

#include <string>
#include <vector>

#include "data/data_options.h"

namespace stratum::data {

/// "ds-" and 16 hex digits of the SHA-256 over the sorted SHA-256s of the source files, the data
/// section of the config (without paths and performance knobs: moving a file or adding workers
/// keeps the version) and the redaction policy (with its key's fingerprint when it hashes).
std::string dataset_version(std::vector<std::string> file_sha256s, const DataOptions& options);

/// The data section as canonical JSON, minus the keys that do not change the data.
std::string data_options_json(const DataOptions& options);

}  // namespace stratum::data
