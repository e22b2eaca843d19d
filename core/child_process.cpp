#include "core/child_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace stratum {

int spawn_supervised(const ChildSpec& spec) {
  // Everything the child needs is built before fork.
  std::vector<char*> argv;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t supervisor = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid > 0) return pid;
  setpgid(0, 0);
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != supervisor) _exit(128 + SIGTERM);  // the supervisor died before prctl
  if (spec.stdout_fd >= 0) dup2(spec.stdout_fd, STDOUT_FILENO);
  if (spec.stderr_fd >= 0) dup2(spec.stderr_fd, STDERR_FILENO);
  for (int fd : spec.close_in_child) close(fd);
  for (const auto& [name, value] : spec.environment) setenv(name.c_str(), value.c_str(), 1);
  execv(spec.executable.c_str(), argv.data());
  std::fprintf(stderr, "error: cannot start %s: %s\n", spec.executable.c_str(), std::strerror(errno));
  _exit(127);
}

int exit_code_of_wait_status(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace stratum
