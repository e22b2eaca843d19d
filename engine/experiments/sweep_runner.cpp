#include "engine/experiments/sweep_runner.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/atomic_file.h"
#include "core/child_process.h"
#include "core/error.h"
#include "core/file_lock.h"
#include "core/log.h"
#include "core/read_file.h"
#include "core/text.h"
#include "core/torch_compat.h"
#include "distributed/launcher.h"
#include "engine/experiments/sweep_results.h"
#include "engine/experiments/sweep_state.h"
#include "engine/stop_signal.h"
#include "engine/training_checkpoint.h"

namespace fs = std::filesystem;

namespace stratum::experiments {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One run in progress.
struct Active {
  size_t index = 0;  ///< into state.runs
  int pid = -1;
  int log_fd = -1;
  double started = 0;
  int gpu = -1;
};

// Whether `pid` is still a process started for run `id` (a previous sweep's child that was
// told to stop when that sweep died, and may still be writing its checkpoint).
bool still_running(int64_t pid, const std::string& id) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  const std::string cmdline = read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
  return cmdline.find("run.name=" + id) != std::string::npos;
}

class Sweep {
 public:
  Sweep(const SweepOptions& options, const std::vector<PlannedRun>& runs, const std::string& resolved_base)
      : o_(options), planned_(runs), fingerprint_(plan_fingerprint(resolved_base, runs)) {}

  int run() {
    lock();
    load_or_create();
    wait_for_previous_children();
    std::vector<size_t> queue;
    for (size_t i = 0; i < state_.runs.size(); ++i) {
      const SweepRun& r = state_.runs[i];
      if (r.state == RunState::finished) continue;
      if (r.state == RunState::failed && !o_.retry_failed) continue;
      queue.push_back(i);
    }
    const size_t finished = count(RunState::finished), failed = count(RunState::failed);
    log::info("sweep: " + std::to_string(state_.runs.size()) + " runs, " + std::to_string(finished) + " finished, " +
              std::to_string(queue.size()) + " to run" +
              (failed > 0 && !o_.retry_failed ? ", " + std::to_string(failed) + " failed (--retry-failed reruns them)"
                                              : std::string()) +
              ", " + std::to_string(o_.parallel) + " at a time; " + o_.out_dir + "/sweep.json");
    install_stop_handlers();
    const int gpus = compat::cuda_device_count();
    std::vector<bool> gpu_busy(static_cast<size_t>(std::max(gpus, 0)), false);
    size_t next = 0;
    bool stopping = false;
    while (next < queue.size() || !active_.empty()) {
      if (stop_requested() && !stopping) {
        stopping = true;
        log::info("sweep: stopping; the running runs checkpoint and stop (run the same command again to continue)");
        for (const Active& a : active_) ::kill(a.pid, SIGTERM);
      }
      while (!stopping && next < queue.size() && static_cast<int64_t>(active_.size()) < o_.parallel) {
        int gpu = -1;
        for (size_t g = 0; g < gpu_busy.size() && o_.launch_args.empty(); ++g) {
          if (!gpu_busy[g]) {
            gpu = static_cast<int>(g);
            gpu_busy[g] = true;
            break;
          }
        }
        start(queue[next++], gpu);
      }
      int status = 0;
      const pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        continue;
      }
      for (size_t k = 0; k < active_.size(); ++k) {
        if (active_[k].pid != pid) continue;
        if (active_[k].gpu >= 0) gpu_busy[static_cast<size_t>(active_[k].gpu)] = false;
        finish(active_[k], exit_code_of_wait_status(status));
        active_.erase(active_.begin() + static_cast<long>(k));
        break;
      }
    }
    const std::string table = write_sweep_results(state_, o_.out_dir);
    std::fputs(table.c_str(), stdout);
    std::printf("\nresults: %s/results.csv, %s/settings.csv, %s/results.json\n", o_.out_dir.c_str(), o_.out_dir.c_str(),
                o_.out_dir.c_str());
    std::fflush(stdout);
    if (stopping) return 130;
    const size_t failures = count(RunState::failed);
    if (failures > 0) {
      log::error("sweep: " + std::to_string(failures) + " of " + std::to_string(state_.runs.size()) +
                 " runs failed; see sweep.json and " + o_.out_dir + "/logs/");
      return 3;
    }
    return 0;
  }

 private:
  void lock() {
    std::error_code ec;
    fs::create_directories(fs::path(o_.out_dir) / "logs", ec);
    if (ec) throw UserError("--out " + o_.out_dir + ": cannot create: " + ec.message());
    lock_ = std::make_unique<FileLock>(o_.out_dir + "/sweep.lock", /*wait_seconds=*/0);
    if (!lock_->locked()) {
      throw UserError("--out " + o_.out_dir + ": another stratum sweep is running in this folder");
    }
  }

  void load_or_create() {
    const std::string path = o_.out_dir + "/sweep.json";
    if (fs::exists(path)) {
      state_ = read_sweep_state(path);
      if (state_.plan_sha256 != fingerprint_ || state_.runs.size() != planned_.size()) {
        throw UserError(path + ": this folder holds a different sweep (another base config, --set, or grid); "
                               "continue it with the command that started it, or use another --out");
      }
      state_.command = o_.command;
      return;
    }
    state_.base_config = o_.base_config;
    state_.command = o_.command;
    state_.plan_sha256 = fingerprint_;
    for (const PlannedRun& p : planned_) {
      SweepRun r;
      r.plan = p;
      state_.runs.push_back(r);
    }
    save();
  }

  // A sweep that was killed told its runs to stop; they may still be writing checkpoints.
  void wait_for_previous_children() {
    for (SweepRun& r : state_.runs) {
      if (r.state != RunState::running) continue;
      if (still_running(r.pid, r.plan.id)) {
        log::info("sweep: waiting for run " + r.plan.id + " (pid " + std::to_string(r.pid) +
                  ", left by the previous sweep) to stop");
        const double deadline = now_seconds() + 600;
        while (still_running(r.pid, r.plan.id) && now_seconds() < deadline) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
        }
        if (still_running(r.pid, r.plan.id)) ::kill(static_cast<pid_t>(r.pid), SIGKILL);
      }
      // Its exit was never seen: what its run directory holds is what it got to.
      if (!r.attempts.empty()) {
        RunAttempt& last = r.attempts.back();
        if (last.run_dir.empty()) last.run_dir = read_run_dir_file(r.plan.id);
        last.exit_code = kExitNotSeen;
      }
      r.state = !r.run_dir().empty() && fs::exists(r.run_dir() + "/eval.json") ? RunState::finished : RunState::interrupted;
      r.pid = 0;
    }
    save();
  }

  std::string run_dir_file(const std::string& id) const { return o_.out_dir + "/logs/" + id + ".run_dir"; }

  std::string read_run_dir_file(const std::string& id) const {
    std::string text = read_file(run_dir_file(id)).value_or("");
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
  }

  void start(size_t index, int gpu) {
    SweepRun& r = state_.runs[index];
    // Continue the last attempt's checkpoint when it wrote one.
    std::string resume;
    if (!r.run_dir().empty()) {
      try {
        resume = resolve_checkpoint(r.run_dir());
      } catch (const UserError&) {
        resume.clear();
      }
    }
    std::vector<std::string> train = {"train", "--config", o_.base_config};
    for (const std::string& s : run_overrides(o_, r.plan)) train.insert(train.end(), {"--set", s});
    for (const std::string& p : o_.plugins) train.insert(train.end(), {"--plugin", p});
    if (!resume.empty()) train.insert(train.end(), {"--resume", resume});

    ChildSpec child;
    child.executable = o_.executable;
    child.argv = {"stratum"};
    if (!o_.launch_args.empty()) {
      child.argv.push_back("launch");
      child.argv.insert(child.argv.end(), o_.launch_args.begin(), o_.launch_args.end());
      child.argv.push_back("--");
    }
    child.argv.insert(child.argv.end(), train.begin(), train.end());
    ::unlink(run_dir_file(r.plan.id).c_str());
    child.environment.emplace_back(distributed::kRunDirFileVariable, run_dir_file(r.plan.id));
    if (gpu >= 0) child.environment.emplace_back("CUDA_VISIBLE_DEVICES", std::to_string(gpu));
    const std::string log_path = o_.out_dir + "/logs/" + r.plan.id + ".log";
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) throw UserError(log_path + ": cannot open for writing");
    const std::string header = "\n=== " + std::string(resume.empty() ? "start" : "resume from " + resume) + ": " +
                               shell_quote(child.argv) + "\n";
    if (::write(fd, header.data(), header.size()) < 0) log::warn(log_path + ": cannot write");
    child.stdout_fd = child.stderr_fd = fd;
    Active a;
    a.index = index;
    a.log_fd = fd;
    a.started = now_seconds();
    a.gpu = gpu;
    a.pid = spawn_supervised(child);
    active_.push_back(a);
    r.state = RunState::running;
    r.pid = a.pid;
    r.attempts.push_back({"", 0.0, 0, !resume.empty()});
    save();
    log::info("sweep: " + std::string(resume.empty() ? "started " : "resumed ") + r.plan.id +
              (r.plan.overrides().empty() ? "" : " (" + join(r.plan.overrides(), ", ") + ")") + "; log " + log_path);
  }

  void finish(const Active& a, int code) {
    ::close(a.log_fd);
    SweepRun& r = state_.runs[a.index];
    RunAttempt& attempt = r.attempts.back();
    attempt.seconds = now_seconds() - a.started;
    attempt.exit_code = code;
    attempt.run_dir = read_run_dir_file(r.plan.id);
    r.pid = 0;
    r.exit_code = code;
    const bool evaluated = !attempt.run_dir.empty() && fs::exists(attempt.run_dir + "/eval.json");
    // A run stopped by a signal exits 0 after its checkpoint, without a final evaluation.
    r.state = code == 0 && evaluated ? RunState::finished : code == 0 || code == 128 + SIGTERM || code == 128 + SIGINT
                                                                 ? RunState::interrupted
                                                                 : RunState::failed;
    save();
    write_sweep_results(state_, o_.out_dir);
    const std::string what = r.state == RunState::finished    ? "finished"
                             : r.state == RunState::interrupted ? "stopped (it resumes when the sweep is run again)"
                                                                : "failed with exit code " + std::to_string(code);
    const size_t done = count(RunState::finished);
    (r.state == RunState::failed ? log::warn : log::info)(
        "sweep: " + r.plan.id + " " + what + " after " + format_duration(attempt.seconds) + " (" + std::to_string(done) +
        "/" + std::to_string(state_.runs.size()) + " finished)" +
        (r.state == RunState::failed ? "; see " + o_.out_dir + "/logs/" + r.plan.id + ".log" : std::string()));
  }

  size_t count(RunState s) const {
    size_t n = 0;
    for (const SweepRun& r : state_.runs) n += r.state == s;
    return n;
  }

  void save() const { write_file_atomically(o_.out_dir + "/sweep.json", sweep_state_json(state_)); }

  const SweepOptions& o_;
  const std::vector<PlannedRun>& planned_;
  const std::string fingerprint_;
  SweepState state_;
  std::vector<Active> active_;
  std::unique_ptr<FileLock> lock_;
};

}  // namespace

std::vector<std::string> run_overrides(const SweepOptions& options, const PlannedRun& run) {
  std::vector<std::string> out = options.base_overrides;
  for (const std::string& s : run.overrides()) out.push_back(s);
  out.push_back("run.output_dir=" + options.out_dir + "/runs");
  out.push_back("run.name=" + run.id);
  if (options.threads_per_run > 0) out.push_back("trainer.threads=" + std::to_string(options.threads_per_run));
  return out;
}

int run_sweep(const SweepOptions& options, const std::vector<PlannedRun>& runs, const std::string& resolved_base) {
  return Sweep(options, runs, resolved_base).run();
}

}  // namespace stratum::experiments
