#pragma once
// Supervised child processes (the launcher's workers, a sweep's runs): each in its own process
// group, so a terminal's Ctrl-C reaches only the supervisor, which forwards it once; and told
// to stop (SIGTERM) when the supervisor dies, even by SIGKILL, instead of running on unwatched.

#include <string>
#include <utility>
#include <vector>

namespace stratum {

/// How a supervised child starts.
struct ChildSpec {
  std::string executable;
  std::vector<std::string> argv;  ///< argv[0] included
  std::vector<std::pair<std::string, std::string>> environment;  ///< set in the child
  int stdout_fd = -1, stderr_fd = -1;  ///< become the child's 1 and 2 (-1: inherited)
  std::vector<int> close_in_child;     ///< descriptors the child closes after taking its outputs
};

/// Forks and execs `spec`; returns the child's pid. A child that cannot exec writes why to its
/// stderr and exits 127. Throws std::runtime_error when fork fails.
int spawn_supervised(const ChildSpec& spec);

/// The exit code a wait status stands for: the child's code, or 128 + the signal that killed it.
int exit_code_of_wait_status(int status);

}  // namespace stratum
