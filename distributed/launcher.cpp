#include "distributed/launcher.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "core/child_process.h"
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
  ChildSpec child;
  child.executable = executable;
  child.argv.push_back("stratum");
  child.argv.insert(child.argv.end(), o.command.begin(), o.command.end());
  child.environment = {{"RANK", std::to_string(w.rank)},
                       {"LOCAL_RANK", std::to_string(local_rank)},
                       {"WORLD_SIZE", std::to_string(o.nnodes * o.nproc_per_node)},
                       {"LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node)},
                       {"GROUP_RANK", std::to_string(o.node_rank)},
                       {"MASTER_ADDR", o.master_addr},
                       {"MASTER_PORT", std::to_string(o.master_port)},
                       {"TORCHELASTIC_RESTART_COUNT", std::to_string(restart)},
                       {"TORCHELASTIC_MAX_RESTARTS", std::to_string(o.max_restarts)},
                       {kRunDirFileVariable, run_dir_file},
                       {kLaunchArgsVariable, shell_quote(o.launcher_args)}};
  if (!resume_run.empty()) child.environment.emplace_back(kResumeRunVariable, resume_run);
  child.stdout_fd = out[1];
  child.stderr_fd = err[1];
  child.close_in_child = {out[0], out[1], err[0], err[1]};
  w.pid = spawn_supervised(child);
  close(out[1]), close(err[1]);
  w.fds[0] = out[0], w.fds[1] = err[0];
  return w;
}

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
      if (exit_code_of_wait_status(w.status) != 0 && result.failed_rank < 0 && result.signal == 0) {
        result.failed_rank = w.rank;
        result.code = exit_code_of_wait_status(w.status);
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
  // A supervisor of the launcher (stratum sweep) learns the run directory the same way.
  if (const char* outer = std::getenv(kRunDirFileVariable); outer && *outer) {
    std::ifstream written(run_dir_file);
    std::string run_dir;
    std::getline(written, run_dir);
    if (!run_dir.empty()) std::ofstream(outer) << run_dir << "\n";
  }
  std::remove(run_dir_file.c_str());
  return code;
}

}  // namespace stratum::distributed
