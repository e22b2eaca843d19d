#include "engine/run_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "core/error.h"
#include "core/text.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

bool is_safe_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.size() > 200) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

RunDir RunDir::joined(const std::string& path) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    throw UserError("run.output_dir: rank 0's run directory " + path +
                    " is not visible here; a multi-node job needs run.output_dir on a shared filesystem");
  }
  return RunDir(path);
}

RunDir RunDir::create(const std::string& root, const std::string& name, const std::string& timestamp) {
  if (!is_safe_name(name)) {
    throw UserError("run.name: \"" + printable(name, 60) +
                    "\" is not a plain folder name (use letters, digits, '.', '_' and '-', at most 200)");
  }
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) throw UserError("run.output_dir: cannot create " + root + ": " + ec.message());
  const fs::path canonical_root = fs::canonical(root, ec);
  if (ec) throw UserError("run.output_dir: cannot resolve " + root + ": " + ec.message());

  const std::string base = name + "-" + timestamp;
  for (int attempt = 1; attempt <= 1000; ++attempt) {
    const std::string leaf = attempt == 1 ? base : base + "-" + std::to_string(attempt);
    const fs::path candidate = canonical_root / leaf;
    // mkdir fails with EEXIST on anything already there (a run, a file or a symlink), so
    // an existing run is never reused and a planted link is never followed.
    if (::mkdir(candidate.c_str(), 0755) == 0) return RunDir(candidate.string());
    if (errno != EEXIST) {
      throw UserError("run.output_dir: cannot create run directory " + candidate.string() + ": " +
                      std::strerror(errno));
    }
  }
  throw UserError("run.output_dir: too many runs named " + base + " in " + root);
}

std::string RunDir::timestamp_now() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &local);
  return buf;
}

std::string RunDir::file(const std::string& relative) const { return (fs::path(path_) / relative).string(); }

void RunDir::write_file(const std::string& relative, const std::string& text) const {
  write_file_atomically(file(relative), text);
}

}  // namespace stratum
