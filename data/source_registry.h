#pragma once
// What a data-source registration says: how to read the source into the three splits.
// Built-ins register in data/builtin_sources.cpp, plugins through the same type.

#include <functional>
#include <string>

#include "core/named_registry.h"
#include "data/data_options.h"
#include "data/split_data.h"

namespace stratum::data {

/// Reads a data source into the three splits.
struct SourceEntry {
  std::string name;
  std::string description;
  std::function<SplitData(const DataOptions&, const DataContext&)> build;
};

/// The sources that can be named in `data.source`.
using SourceRegistry = NamedRegistry<SourceEntry>;

}  // namespace stratum::data
