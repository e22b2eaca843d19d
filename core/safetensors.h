#pragma once
// The safetensors file format (Hugging Face): an 8-byte little-endian header length, a JSON
// header naming each tensor's dtype, shape and byte range, then the raw little-endian data.
// What Hugging Face and timm read and write, so weights move between them and Stratum.

#include <torch/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace stratum {

/// Tensors by name, in file order, with the header's free-form string metadata.
struct SafetensorsFile {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  std::map<std::string, std::string> metadata;
};

/// Writes `file` to `path` atomically (temporary file, fsync, rename). Tensors are stored
/// contiguous on the CPU in their own dtype.
void write_safetensors(const std::string& path, const SafetensorsFile& file);

/// Reads `path`; a missing, truncated or malformed file is a UserError naming the path and
/// what is wrong (header length, JSON, a tensor's dtype, shape or byte range).
SafetensorsFile read_safetensors(const std::string& path);

/// A tensor shape for error messages: "[4,32]".
std::string shape_text(at::IntArrayRef sizes);

}  // namespace stratum
