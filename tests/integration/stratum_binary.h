#pragma once
// Runs the built `stratum` binary for integration tests.

#include <string>

#include "support/temp_dir.h"

namespace stratum::testing {

/// Runs `stratum <arguments>` from the source tree (so relative config paths resolve).
inline CommandResult run_stratum(const std::string& arguments) {
  return run_command(std::string("cd '") + STRATUM_SOURCE_DIR + "' && '" + STRATUM_BINARY + "' " + arguments);
}

/// Runs `command` (shell, from the source tree) in the background; once `ready` (a shell test,
/// polled every 50 ms for up to a minute) holds, runs `action` ($pid is the background
/// command's), then waits for the command and returns its result.
inline CommandResult run_until(const std::string& command, const std::string& ready, const std::string& action) {
  return run_command(std::string("cd '") + STRATUM_SOURCE_DIR + "' && (" + command +
                     " & pid=$!; for i in $(seq 1200); do " + ready + " && break; sleep 0.05; done; " + action +
                     "; wait $pid)");
}

/// The run directory a `stratum train` printed last ("" when it printed none).
inline std::string run_directory(const CommandResult& r) {
  const auto at = r.out.rfind("run directory: ");
  return at == std::string::npos ? "" : r.out.substr(at + 15, r.out.find('\n', at) - at - 15);
}

/// Number of lines in `text` (a final line without '\n' counts).
inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines + (!text.empty() && text.back() != '\n');
}

}  // namespace stratum::testing
