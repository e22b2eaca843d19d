#pragma once
// SHA-256 of bytes and files: manifests and checkpoints pin exactly which bytes they mean.

#include <cstdint>
#include <string>

namespace stratum {

/// Lower-case hex SHA-256 of `bytes`.
std::string sha256_hex(const std::string& bytes);

/// Lower-case hex SHA-256 of the file at `path`, read in chunks; UserError if unreadable.
std::string sha256_file(const std::string& path);

}  // namespace stratum
