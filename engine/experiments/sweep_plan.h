#pragma once
// What `stratum sweep` runs: the base config crossed with grids, random draws, ablations and
// seeds, expanded into a list of runs that differ from the base by `--set` overrides.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/config.h"

namespace stratum::experiments {

/// One run of a sweep: how it differs from the base config.
struct PlannedRun {
  std::string id;       ///< stable and folder-safe, e.g. "003-lr=0.001-s2"
  std::string setting;  ///< runs that differ only by seed share it
  std::vector<std::pair<std::string, std::string>> varied;  ///< key -> value (YAML), in flag order
  std::string ablated;  ///< the component switched off ("" for a grid point or the ablation base)
  int64_t seed = -1;    ///< run.seed (-1: the base config's)

  /// "key=value" for `stratum train --set`, the seed last.
  std::vector<std::string> overrides() const;
};

/// What the user asked `stratum sweep` for.
struct SweepRequest {
  std::vector<std::string> grids;      ///< "key=[a,b,c]": the cartesian product of all grids
  std::vector<std::string> ablations;  ///< "key" (switched to its neutral value) or "key=value"
  std::vector<std::string> ranges;     ///< "key=lo:hi", "key=log:lo:hi" or "key=int:lo:hi" for --sample
  int64_t samples = 0;                 ///< random draws from the ranges
  uint64_t sample_seed = 0;
  std::vector<int64_t> seeds;          ///< every setting once per seed (empty: the base seed)
};

/// Expands `request` against the loaded base config. A UserError naming the flag for a
/// malformed flag, an unknown key, an empty grid, a range without --sample and the like.
std::vector<PlannedRun> plan_sweep(const SweepRequest& request, const RunConfig& base);

/// The top-level items of "[a, b, [c, d]]" or "a,b": {"a", "b", "[c, d]"} (brackets and quotes nest).
std::vector<std::string> split_value_list(const std::string& text);

/// The value that switches `key` off in `base` (false, 0, [], ""), or for a section the
/// assignments that do ("trainer.ema" -> trainer.ema.decay=0). A UserError naming `flag` when
/// the key has no neutral value (a choice: name the value) or is off already.
std::vector<std::pair<std::string, std::string>> neutral_assignments(const std::string& key, const RunConfig& base,
                                                                     const std::string& flag);

}  // namespace stratum::experiments
