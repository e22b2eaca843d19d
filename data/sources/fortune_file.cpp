#include "data/sources/fortune_file.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "data/sources/line_reader.h"

namespace fs = std::filesystem;

namespace stratum::data {

std::vector<std::string> fortune_files(const std::string& path) {
  std::vector<std::string> paths;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    for (const auto& entry : fs::directory_iterator(path, ec)) {
      if (entry.is_regular_file(ec) && entry.path().extension().empty()) paths.push_back(entry.path().string());
    }
    std::sort(paths.begin(), paths.end());
  } else if (fs::is_regular_file(path, ec)) {
    paths.push_back(path);
  } else {
    throw UserError("data.path: " + path + ": no such file or folder");
  }
  if (paths.empty()) throw UserError("data.path: " + path + ": no fortune files (files without an extension)");
  return paths;
}

bool read_fortune_records(LineReader& reader, const std::function<bool(const FortuneRecord&)>& on_record) {
  FortuneRecord record;
  std::string line;
  const auto flush = [&]() {
    if (record.text.empty() && !record.too_long) return true;
    const bool more = on_record(record);
    record = FortuneRecord{};
    return more;
  };
  while (reader.next(line)) {
    if (line == "%") {
      if (!flush()) return false;
      continue;
    }
    if (record.text.empty() && !record.too_long) record.offset = reader.line_offset(), record.line = reader.line_number();
    if (reader.truncated() || record.text.size() + line.size() > LineReader::kMaxLineBytes) {
      record.too_long = true;
      record.text.clear();
      continue;
    }
    if (!record.too_long) record.text += record.text.empty() ? line : "\n" + line;
  }
  return flush();
}

}  // namespace stratum::data
