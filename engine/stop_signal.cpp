#include "engine/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace stratum {
namespace {

std::atomic<bool> requested{false};

void on_signal(int signal) {
  if (requested.exchange(true)) {
    // Second signal: the user means it. _exit is async-signal-safe; 128 + N is the shell's code.
    ::_exit(128 + signal);
  }
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
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return requested.load(std::memory_order_relaxed); }

}  // namespace stratum
