#include "data/sources/input_paths.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/error.h"

namespace stratum::data {

namespace {

// `{a..b}` numeric ranges (shard-{000000..000099}.tar), expanded before globbing: glob(3) knows
// brace lists only. Zero-padded to the width of `a` when it has a leading zero.
constexpr int64_t kMaxRange = 1000000;

std::vector<std::string> expand_ranges(const std::string& pattern, const std::string& key) {
  const size_t open = pattern.find('{');
  const size_t dots = open == std::string::npos ? std::string::npos : pattern.find("..", open);
  const size_t close = dots == std::string::npos ? std::string::npos : pattern.find('}', dots);
  if (close == std::string::npos) return {pattern};
  const std::string first = pattern.substr(open + 1, dots - open - 1), last = pattern.substr(dots + 2, close - dots - 2);
  const auto digits = [](const std::string& s) {
    return !s.empty() && s.size() <= 12 && s.find_first_not_of("0123456789") == std::string::npos;
  };
  if (!digits(first) || !digits(last)) return {pattern};  // not a range: a brace list, perhaps
  const int64_t from = std::stoll(first), to = std::stoll(last);
  if (to < from || to - from >= kMaxRange) {
    throw UserError(key + ": " + pattern + ": the range {" + first + ".." + last + "} is empty or over " +
                    std::to_string(kMaxRange) + " names");
  }
  const size_t width = first.size() > 1 && first[0] == '0' ? first.size() : 0;
  std::vector<std::string> out;
  for (int64_t n = from; n <= to; ++n) {
    std::string number = std::to_string(n);
    if (number.size() < width) number.insert(0, width - number.size(), '0');
    for (std::string& rest : expand_ranges(pattern.substr(close + 1), key)) {
      out.push_back(pattern.substr(0, open) + number + rest);
    }
  }
  return out;
}

}  // namespace

bool is_glob(const std::string& path) {
  if (path.find_first_of("*?[") != std::string::npos) return true;
  const size_t open = path.find('{');
  return open != std::string::npos && path.find(',', open) != std::string::npos &&
         path.find('}', open) != std::string::npos;
}

std::vector<std::string> input_paths(const std::string& path, const std::string& key) {
  if (path == "-") return {path};
  if (path.find("..") != std::string::npos && path.find('{') != std::string::npos) {
    const std::vector<std::string> expanded = expand_ranges(path, key);
    if (expanded.size() > 1 || expanded[0] != path) {
      std::vector<std::string> paths;
      for (const std::string& one : expanded) {
        for (std::string& p : input_paths(one, key)) paths.push_back(std::move(p));
      }
      return paths;  // in the range's order
    }
  }
  if (!is_glob(path)) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) throw UserError(key + ": " + path + ": no such file");
    if (S_ISDIR(st.st_mode)) throw UserError(key + ": " + path + ": is a folder, not a file (a pattern such as " + path + "/*.jsonl reads its files)");
    return {path};
  }
  glob_t found{};
  const int rc = ::glob(path.c_str(), GLOB_BRACE | GLOB_MARK, nullptr, &found);
  std::vector<std::string> paths;
  for (size_t i = 0; rc == 0 && i < found.gl_pathc; ++i) {
    std::string match = found.gl_pathv[i];
    if (!match.empty() && match.back() != '/') paths.push_back(std::move(match));  // GLOB_MARK: folders end in '/'
  }
  globfree(&found);
  if (rc == GLOB_NOSPACE) throw UserError(key + ": " + path + ": out of memory expanding the pattern");
  if (rc == GLOB_ABORTED) throw UserError(key + ": " + path + ": a folder of the pattern cannot be read");
  if (paths.empty()) throw UserError(key + ": " + path + ": the pattern matches no files");
  // Brace lists expand in written order: sort so the order is the paths' own.
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return paths;
}

}  // namespace stratum::data
