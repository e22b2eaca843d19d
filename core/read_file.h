#pragma once
// Reading a whole (small) file: configs of tokenizers, manifests, report inputs.

#include <optional>
#include <string>

namespace stratum {

/// The bytes of the file at `path`, or nothing when it cannot be opened (callers say why in
/// their own words: which key or flag named it).
std::optional<std::string> read_file(const std::string& path);

}  // namespace stratum
