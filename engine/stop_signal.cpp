#include "engine/stop_signal.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace stratum {
namespace {

std::atomic<bool> requested{false};
std::atomic<long long> first_signal_ns{0};

long long monotonic_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);  // async-signal-safe (POSIX)
  return static_cast<long long>(now.tv_sec) * 1'000'000'000LL + now.tv_nsec;
}

void on_signal(int signal) {
  const long long now = monotonic_ns();
  if (requested.exchange(true)) {
    if (now - first_signal_ns.load() < kRepeatedSignalWindowNs) return;  // the same stop, delivered twice
    // A later signal: the user means it. _exit is async-signal-safe; 128 + N is the shell's code.
    ::_exit(128 + signal);
  }
  first_signal_ns.store(now);
  static const char message[] =
      "\nstopping: the last complete step will be checkpointed (send the signal again to abort now)\n";
  const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
  (void)ignored;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  // Neither signal interrupts the other's handler, so the first one's time is always stored.
  sigaddset(&action.sa_mask, SIGINT);
  sigaddset(&action.sa_mask, SIGTERM);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return requested.load(std::memory_order_relaxed); }

}  // namespace stratum
