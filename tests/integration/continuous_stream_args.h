#pragma once
// What the continuous-run integration tests share: a labeled text stream, the arguments of a
// small continuous run over it, and a run's metrics records of one kind.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "integration/training_run.h"

namespace stratum::testing {

/// `n` "label<TAB>text" lines whose label a small model can learn from the words, with an
/// unknown label every 500 lines (rejected).
std::string stream_lines(int n);

/// `train` arguments of a small continuous run (a 1-block text classifier, lockstep 8 records a
/// step, windows of 200) over the text stream at `path`, its run directory under `dir`.
std::string text_args(const std::string& path, const TempDir& dir);

/// The records of one kind ("train", "prequential", "event", ...) of a run's metrics.jsonl.
std::vector<nlohmann::json> records_of(const std::string& run, const std::string& kind);

}  // namespace stratum::testing
