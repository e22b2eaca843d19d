#pragma once
// Logging for every part of Stratum. Plain functions over std::string: spdlog stays inside
// log.cpp so it never meets LibTorch's fmt in one translation unit.

#include <string>

#include "core/options.h"

namespace stratum::log {

/// Severity of a log line; lines below the configured level are dropped.
enum class Level { debug, info, warn, error };
inline const ChoiceTable<Level>& choices(Level) {
  static const ChoiceTable<Level> table{
      {Level::debug, "debug"}, {Level::info, "info"}, {Level::warn, "warn"}, {Level::error, "error"}};
  return table;
}

/// Parses "debug" | "info" | "warn" | "error"; throws UserError naming `where` otherwise.
Level parse_level(const std::string& text, const std::string& where);

void set_level(Level level);

/// In multi-process runs every line is prefixed with "[rank R/W]" so interleaved output stays readable.
void set_rank(int rank, int world_size);

/// Also writes every line (at any console level >= debug) to `path`, appending.
void add_file(const std::string& path);

void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

/// A transient status line (training progress). On a terminal it is redrawn in place and
/// cleared before ordinary log lines; elsewhere it is printed as a plain info line.
void status(const std::string& line);

/// Ends the status line so later output starts on a fresh line.
void end_status();

/// Flushes every sink (call before exiting).
void flush();

}  // namespace stratum::log
