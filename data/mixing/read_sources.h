#pragma once
// The front door of the data layer: reads the one source of `data.source`, or every source of
// `data.sources` (each through its own reservoirs) and joins them into one SplitData whose
// seen split the loader draws from by share.

#include "data/data_options.h"
#include "data/source_registry.h"
#include "data/split_data.h"

namespace stratum::data {

/// Reads `options`' data. With several sources: one label vocabulary (the union, in order of
/// first appearance), inputs standardized with the mixture's statistics, every split the
/// concatenation of the sources' in their order, `mix` naming each source's seen rows and
/// share, and a manifest with a section per source. A failing source's error names its entry.
SplitData read_sources(const SourceRegistry& registry, const DataOptions& options, const DataContext& context);

/// How many of the first `examples` draws of `mix` (with the loader's seed) go to each source:
/// the shares a reader can check before training.
std::vector<int64_t> planned_draws(const std::vector<MixComponent>& mix, uint64_t seed, int64_t examples);

}  // namespace stratum::data
