#include "distributed/launcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/text.h"

namespace stratum::distributed {
namespace {

volatile sig_atomic_t g_signal = 0;
void remember_signal(int signal) { g_signal = signal; }

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One running worker: its process and the read ends of its stdout / stderr, with whatever
// partial line each has sent so far.
struct Worker {
  int rank = 0;
  pid_t pid = -1;
  int fds[2] = {-1, -1};
  std::string pending[2];
  bool exited = false;
  int status = 0;
};

// Writes every complete line of `text` (appended to `pending`) to `out` after the rank prefix.
void forward_lines(Worker& w, int stream, const std::string& text, bool flush_all) {
  std::string& buffer = w.pending[stream];
  buffer += text;
  FILE* out = stream == 0 ? stdout : stderr;
  size_t start = 0, end;
  while ((end = buffer.find('\n', start)) != std::string::npos) {
    std::fprintf(out, "[rank %d] %.*s\n", w.rank, static_cast<int>(end - start), buffer.data() + start);
    start = end + 1;
  }
  buffer.erase(0, start);
  if (flush_all && !buffer.empty()) {
    std::fprintf(out, "[rank %d] %s\n", w.rank, buffer.c_str());
    buffer.clear();
  }
  std::fflush(out);
}

Worker spawn(const LaunchOptions& o, const std::string& executable, int local_rank, int restart,
             const std::string& run_dir_file, const std::string& resume_run) {
  Worker w;
  w.rank = o.node_rank * o.nproc_per_node + local_rank;
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t launcher = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // The worker: its own process group, so a terminal's Ctrl-C reaches only the launcher,
    // which forwards it once; and it is told to stop when the launcher dies, even by SIGKILL,
    // instead of training on unsupervised.
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != launcher) _exit(128 + SIGTERM);  // the launcher died before prctl
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    close(out[0]), close(out[1]), close(err[0]), close(err[1]);
    const auto set = [](const char* name, const std::string& value) { setenv(name, value.c_str(), 1); };
    set("RANK", std::to_string(w.rank));
    set("LOCAL_RANK", std::to_string(local_rank));
    set("WORLD_SIZE", std::to_string(o.nnodes * o.nproc_per_node));
    set("LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node));
    set("GROUP_RANK", std::to_string(o.node_rank));
    set("MASTER_ADDR", o.master_addr);
    set("MASTER_PORT", std::to_string(o.master_port));
    set("TORCHELASTIC_RESTART_COUNT", std::to_string(restart));
    set("TORCHELASTIC_MAX_RESTARTS", std::to_string(o.max_restarts));
    set(kRunDirFileVariable, run_dir_file);
    set(kLaunchArgsVariable, shell_quote(o.launcher_args));
    if (!resume_run.empty()) set(kResumeRunVariable, resume_run);
    std::vector<char*> argv;
    const std::string name = "stratum";
    argv.push_back(const_cast<char*>(name.c_str()));
    for (const std::string& a : o.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(executable.c_str(), argv.data());
    std::fprintf(stderr, "error: cannot start %s: %s\n", executable.c_str(), std::strerror(errno));
    _exit(127);
  }
  close(out[1]), close(err[1]);
  w.pid = pid;
  w.fds[0] = out[0], w.fds[1] = err[0];
  return w;
}

// The exit code a worker's wait status stands for: its code, or 128 + the signal that killed it.
int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

struct GroupResult {
  int failed_rank = -1;  ///< the first worker to fail, -1 when all succeeded
  int code = 0;
  int signal = 0;        ///< a SIGINT / SIGTERM the launcher received
};

// Runs one attempt: all workers until they have exited and their output is drained.
GroupResult run_group(const LaunchOptions& o, std::vector<Worker>& workers) {
  GroupResult result;
  double kill_at = -1;  // when the stragglers of a stopping group get SIGKILL
  const auto stop_all = [&](int signal) {
    for (Worker& w : workers) {
      if (!w.exited) kill(w.pid, signal);
    }
    if (kill_at < 0) kill_at = now_seconds() + o.stop_timeout_s;
  };
  while (true) {
    std::vector<pollfd> polled;
    std::vector<std::pair<Worker*, int>> owners;
    for (Worker& w : workers) {
      for (int s = 0; s < 2; ++s) {
        if (w.fds[s] >= 0) {
          polled.push_back({w.fds[s], POLLIN, 0});
          owners.emplace_back(&w, s);
        }
      }
    }
    bool running = false;
    for (const Worker& w : workers) running |= !w.exited;
    if (!running && polled.empty()) break;
    if (poll(polled.data(), polled.size(), 100) > 0) {
      for (size_t i = 0; i < polled.size(); ++i) {
        if (!(polled[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        auto [w, s] = owners[i];
        char buffer[65536];
        const ssize_t n = read(w->fds[s], buffer, sizeof buffer);
        if (n > 0) {
          forward_lines(*w, s, std::string(buffer, static_cast<size_t>(n)), false);
        } else if (n == 0 || errno != EINTR) {
          forward_lines(*w, s, "", true);
          close(w->fds[s]);
          w->fds[s] = -1;
        }
      }
    }
    for (Worker& w : workers) {
      if (w.exited || waitpid(w.pid, &w.status, WNOHANG) != w.pid) continue;
      w.exited = true;
      if (exit_code(w.status) != 0 && result.failed_rank < 0 && result.signal == 0) {
        result.failed_rank = w.rank;
        result.code = exit_code(w.status);
        std::fprintf(stderr, "[launcher] rank %d exited with code %d; stopping the other workers\n", w.rank, result.code);
        stop_all(SIGTERM);
      }
    }
    if (g_signal != 0 && result.signal == 0) {
      result.signal = g_signal;
      std::fprintf(stderr, "[launcher] %s: forwarding to the workers\n", strsignal(result.signal));
      stop_all(result.signal);
    }
    if (kill_at >= 0 && now_seconds() > kill_at) {
      for (Worker& w : workers) {
        if (!w.exited) kill(w.pid, SIGKILL);
      }
      kill_at = now_seconds() + 3600;  // once
    }
  }
  return result;
}

}  // namespace

int launch(const LaunchOptions& o, const std::string& executable) {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);

  char run_dir_template[] = "/tmp/stratum-launch-XXXXXX";
  const int fd = mkstemp(run_dir_template);
  if (fd < 0) throw std::runtime_error(std::string("mkstemp: ") + std::strerror(errno));
  close(fd);
  const std::string run_dir_file = run_dir_template;
  std::string resume_run;
  int code = 0;
  for (int attempt = 0; attempt <= o.max_restarts; ++attempt) {
    std::vector<Worker> workers;
    for (int local = 0; local < o.nproc_per_node; ++local) {
      workers.push_back(spawn(o, executable, local, attempt, run_dir_file, resume_run));
    }
    const GroupResult result = run_group(o, workers);
    if (result.signal != 0) {
      code = 128 + result.signal;
      break;
    }
    if (result.failed_rank < 0) {
      code = 0;
      break;
    }
    code = result.code;
    if (attempt == o.max_restarts) {
      std::fprintf(stderr, "error: rank %d failed with exit code %d%s\n", result.failed_rank, code,
                   o.max_restarts > 0 ? (" after " + std::to_string(o.max_restarts) + " restart(s)").c_str() : "");
      break;
    }
    std::ifstream written(run_dir_file);
    std::getline(written, resume_run);
    std::fprintf(stderr, "[launcher] restarting the group (restart %d of %d)%s\n", attempt + 1, o.max_restarts,
                 resume_run.empty() ? "" : (" from the latest checkpoint of " + resume_run).c_str());
  }
  std::remove(run_dir_file.c_str());
  return code;
}

}  // namespace stratum::distributed
