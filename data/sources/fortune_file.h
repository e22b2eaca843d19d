#pragma once
// The fortune file format (records of lines separated by "%" lines), shared by the fortunes
// source and `stratum data prepare`.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace stratum::data {

class LineReader;

/// The fortune files `path` names: a folder's files without an extension (.dat are strfile
/// indexes, .u8 their UTF-8 twins), sorted so the stream is deterministic; or one file. A
/// UserError naming data.path when there are none.
std::vector<std::string> fortune_files(const std::string& path);

/// One record of a fortune file, where it starts, and whether it was too long to keep (its
/// text is then empty).
struct FortuneRecord {
  std::string text;
  uint64_t offset = 0, line = 0;
  bool too_long = false;
};

/// Hands `reader`'s records to `on_record` in order until it returns false (returns false
/// then, true at the end of the file).
bool read_fortune_records(LineReader& reader, const std::function<bool(const FortuneRecord&)>& on_record);

}  // namespace stratum::data
