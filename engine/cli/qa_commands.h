#pragma once
// The `stratum qa` subcommands (labeling quality). Each takes the arguments after its name.

#include <string>
#include <vector>

#include "engine/cli/commands.h"
#include "engine/config.h"

namespace stratum::cli {

int qa_agreement(const Args& args);
int qa_spotcheck(const Args& args);
int qa_weak_labels(const Args& args);
int qa_select(const Args& args, Registry& registry);
int qa_relabel(const Args& args, Registry& registry);

/// The `qa:` settings: from `config_path` (a run config) with `overrides`, or the defaults
/// when no config is given.
data::QaOptions qa_settings(const std::string& config_path, const std::vector<std::string>& overrides);

}  // namespace stratum::cli
