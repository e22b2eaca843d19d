#pragma once
// The files a `data.path` names: one file, standard input ("-"), or a glob pattern with
// brace lists (`logs/2026-*.jsonl.zst`, `{train,extra}/*.jsonl`) and numeric ranges
// (`shard-{000000..000099}.tar`), expanded in a fixed order so a run reads the same files in
// the same order every time.

#include <string>
#include <vector>

namespace stratum::data {

/// True when `path` holds glob characters (`*`, `?`, `[`) or a brace list (`{a,b}`).
bool is_glob(const std::string& path);

/// The files `path` names, sorted by path when it is a pattern (a range: in its order, each
/// name required to exist); `key` (e.g. "data.path") names the setting in errors: a pattern
/// matching no file, or a missing file, is a UserError.
std::vector<std::string> input_paths(const std::string& path, const std::string& key);

}  // namespace stratum::data
