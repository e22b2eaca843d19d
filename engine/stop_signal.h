#pragma once
// Graceful stopping: the first SIGINT or SIGTERM asks the trainer to finish its step, write a
// checkpoint and exit 0; a second one aborts at once.

namespace stratum {

/// Installs the SIGINT / SIGTERM handlers (idempotent).
void install_stop_handlers();

/// True once a stop was requested.
bool stop_requested();

}  // namespace stratum
