#pragma once
// Files that are either wholly written or not there: a crash never leaves half a file.

#include <string>

namespace stratum {

/// Writes `text` to `path` via a temporary file in the same folder, fsync and rename, so a
/// reader sees either the old or the new content, never a torn file.
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace stratum
