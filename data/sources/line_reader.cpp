#include "data/sources/line_reader.h"

#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace stratum::data {

LineReader::LineReader(const std::string& path) {
  if (path == "-") {
    file_ = stdin;
    return;
  }
  file_ = std::fopen(path.c_str(), "rb");
  if (!file_) throw UserError(path + ": cannot open: " + std::strerror(errno));
  owned_ = true;
}

LineReader::~LineReader() {
  if (owned_ && file_) std::fclose(file_);
}

bool LineReader::next(std::string& line) {
  line.clear();
  line_offset_ = offset_;
  int c;
  bool any = false;
  while ((c = getc_unlocked(file_)) != EOF) {
    any = true;
    ++offset_;
    if (c == '\n') break;
    line.push_back(static_cast<char>(c));
  }
  if (!any) return false;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  ++line_number_;
  return true;
}

}  // namespace stratum::data
