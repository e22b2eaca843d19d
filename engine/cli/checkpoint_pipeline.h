#pragma once
// The data pipeline a checkpoint saved (data_state.bin) brought back for the qa tools: the
// reservoirs' records and the drift monitor's alerts, without re-reading any data file.

#include <memory>
#include <string>

#include "engine/config.h"
#include "data/splits/stream_splitter.h"

namespace stratum::cli {

/// Restores `dir`'s data_state.bin into a splitter built from `config` (which must outlive
/// it). A checkpoint without one, or of a run that mixes sources, is a UserError naming it, or
/// null when not `required`.
std::unique_ptr<data::StreamSplitter> restore_pipeline(const std::string& dir, const RunConfig& config,
                                                       bool required = true);

/// How tools name a training record: "<source index>:<offset>" (file index and byte offset or
/// line number, see data::Provenance).
std::string record_id(const data::Provenance& origin);

}  // namespace stratum::cli
