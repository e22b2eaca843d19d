#include "data/sources/input_paths.h"

#include <glob.h>
#include <sys/stat.h>

#include <algorithm>

#include "core/error.h"

namespace stratum::data {

bool is_glob(const std::string& path) {
  if (path.find_first_of("*?[") != std::string::npos) return true;
  const size_t open = path.find('{');
  return open != std::string::npos && path.find(',', open) != std::string::npos &&
         path.find('}', open) != std::string::npos;
}

std::vector<std::string> input_paths(const std::string& path, const std::string& key) {
  if (path == "-") return {path};
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
