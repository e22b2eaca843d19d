#include "engine/cli/checkpoint_pipeline.h"

#include <sstream>

#include "core/error.h"
#include "engine/training_checkpoint.h"

namespace stratum::cli {

std::unique_ptr<data::StreamSplitter> restore_pipeline(const std::string& dir, const RunConfig& config,
                                                       bool required) {
  const std::string bytes = read_pipeline_state(dir);
  if (bytes.empty() && !required) return nullptr;
  if (bytes.empty()) throw UserError(dir + "/data_state.bin: missing (a checkpoint written before Stratum saved it)");
  if (!config.data.sources.empty()) {
    if (!required) return nullptr;  // a mix keeps one state per source: not one splitter to restore
    throw UserError(dir + ": the run mixes " + std::to_string(config.data.sources.size()) +
                    " sources (data.sources); this tool reads the reservoirs of a single-source run");
  }
  data::DataContext context;
  context.seed = static_cast<uint64_t>(config.run.seed);
  auto splitter = std::make_unique<data::StreamSplitter>(config.data, context, data::UnseenIds{});
  std::istringstream in(bytes);
  splitter->load(in, dir + "/data_state.bin");
  return splitter;
}

std::string record_id(const data::Provenance& origin) {
  return std::to_string(origin.source) + ":" + std::to_string(origin.offset);
}

}  // namespace stratum::cli
