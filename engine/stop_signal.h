#pragma once
// Graceful stopping: the first SIGINT or SIGTERM asks the trainer to finish its step, write a
// checkpoint and exit 0; a second one, sent at least a second later, aborts at once.

namespace stratum {

/// Installs the SIGINT / SIGTERM handlers (idempotent).
void install_stop_handlers();

/// True once a stop was requested.
bool stop_requested();

/// Repeats within this many nanoseconds of the first signal are the same request, not an abort:
/// `timeout`, Slurm and a terminal's Ctrl-C under `stratum launch` deliver one stop twice (to the
/// process and to its process group) within microseconds.
constexpr long long kRepeatedSignalWindowNs = 1'000'000'000LL;

}  // namespace stratum
