#pragma once
// Helpers shared by tests: a temporary folder that cleans itself up, file writing, and
// running a command while capturing its output and exit code.

#include <string>

namespace stratum::testing {

/// A fresh folder under the system temp dir, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  /// Writes `content` to `path()/name` and returns the full path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

/// What a finished command printed and how it exited.
struct CommandResult {
  int exit_code = -1;
  std::string out;  ///< stdout
  std::string err;  ///< stderr
};

/// Runs `command` through /bin/sh, capturing stdout and stderr separately.
CommandResult run_command(const std::string& command);

/// Reads a whole file (empty string when missing).
std::string read_file(const std::string& path);

}  // namespace stratum::testing
