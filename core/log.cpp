#include "core/log.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "core/error.h"

namespace stratum::log {
namespace {

// Console sink that knows about the in-place status line: it clears the line before
// writing a log record and redraws it afterwards, so progress and logs never garble.
class ConsoleSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  void set_status(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    status_ = line;
    std::fputs("\r\033[K", stdout);
    std::fputs(status_.c_str(), stdout);
    std::fflush(stdout);
  }
  void end_status() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!status_.empty()) std::fputs("\n", stdout);
    status_.clear();
    std::fflush(stdout);
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    if (!status_.empty()) std::fputs("\r\033[K", stdout);
    std::fwrite(formatted.data(), 1, formatted.size(), stdout);
    if (!status_.empty()) std::fputs(status_.c_str(), stdout);
    std::fflush(stdout);
  }
  void flush_() override { std::fflush(stdout); }

 private:
  std::string status_;
};

struct State {
  std::shared_ptr<ConsoleSink> console = std::make_shared<ConsoleSink>();
  std::shared_ptr<spdlog::logger> logger;
  std::string prefix;
  bool terminal = ::isatty(STDOUT_FILENO) == 1;
  State() {
    logger = std::make_shared<spdlog::logger>("stratum", console);
    apply_pattern();
    logger->set_level(spdlog::level::debug);
    console->set_level(spdlog::level::info);
  }
  void apply_pattern() {
    logger->set_pattern("%H:%M:%S " + prefix + "%^%l%$ %v");
  }
};

State& state() {
  static State s;
  return s;
}

spdlog::level::level_enum to_spdlog(Level level) {
  switch (level) {
    case Level::debug: return spdlog::level::debug;
    case Level::info: return spdlog::level::info;
    case Level::warn: return spdlog::level::warn;
    case Level::error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

Level parse_level(const std::string& text, const std::string& where) {
  if (text == "debug") return Level::debug;
  if (text == "info") return Level::info;
  if (text == "warn") return Level::warn;
  if (text == "error") return Level::error;
  throw UserError(where + ": expected one of debug, info, warn, error, got \"" + text + "\"");
}

void set_level(Level level) { state().console->set_level(to_spdlog(level)); }

void set_rank(int rank, int world_size) {
  State& s = state();
  s.prefix = world_size > 1
                 ? "[rank " + std::to_string(rank) + "/" + std::to_string(world_size) + "] "
                 : "";
  s.apply_pattern();
}

void add_file(const std::string& path) {
  State& s = state();
  auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, /*truncate=*/false);
  sink->set_level(spdlog::level::debug);
  s.logger->sinks().push_back(sink);
  s.apply_pattern();
}

void debug(const std::string& message) { state().logger->debug(message); }
void info(const std::string& message) { state().logger->info(message); }
void warn(const std::string& message) { state().logger->warn(message); }
void error(const std::string& message) { state().logger->error(message); }

void status(const std::string& line) {
  State& s = state();
  if (s.terminal) {
    s.console->set_status(line);
  } else {
    s.logger->info(line);
  }
}

void end_status() {
  if (state().terminal) state().console->end_status();
}

void flush() { state().logger->flush(); }

}  // namespace stratum::log
