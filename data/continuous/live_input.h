#pragma once
// A stream of lines that keeps flowing: standard input or a FIFO, a file read to its end or
// followed as it grows, a folder watched for new files, or a TCP listener. The reader thread
// of a continuous run polls one with a timeout, so it can always be stopped.

#include <cstdint>
#include <memory>
#include <string>

#include "data/continuous/stream_position.h"
#include "data/data_options.h"

namespace stratum::data {

/// What one poll of a live input found.
enum class InputStatus {
  line,    ///< a line (possibly a rejected one: see InputLine::problem)
  idle,    ///< nothing arrived within the timeout
  ended,   ///< the input is finished and will never deliver more
};

/// A line with where it came from.
struct InputLine {
  std::string text;
  std::string problem;   ///< non-empty: the line cannot be used (too long, cut off by a disconnect, ...)
  std::string source;    ///< for rejects.jsonl: the file, "stdin" or "tcp:HOST:PORT"
  uint64_t offset = 0;   ///< byte offset of the line in its file (0 when the input has none)
  uint64_t line = 0;     ///< 1-based line number in its file, or in the input
  StreamPosition after;  ///< the position just after this line
};

/// One live input.
class LiveInput {
 public:
  virtual ~LiveInput() = default;
  /// Waits at most `timeout_seconds` for the next line.
  virtual InputStatus next(InputLine& line, double timeout_seconds) = 0;
  /// True when reopening at a saved position delivers exactly the lines after it again.
  virtual bool replayable() const = 0;
  /// For logs: "following logs/app.jsonl", "listening on 127.0.0.1:7000".
  virtual std::string describe() const = 0;
};

/// Standard input ("-") or a FIFO: lines as they arrive; never replayable.
std::unique_ptr<LiveInput> open_pipe_input(const std::string& path, size_t max_line_bytes, const StreamPosition* resume);

/// A regular file: read to its end, or with `follow` kept open as it grows, reopened when it is
/// rotated (renamed away and created anew) and reread from the start when truncated.
std::unique_ptr<LiveInput> open_file_input(const std::string& path, bool follow, size_t max_line_bytes,
                                           double poll_seconds, const StreamPosition* resume);

/// A folder whose files are read whole, one after another in name order, each once; files that
/// appear later are taken when their turn comes (names starting with "." or ending in ".tmp" or
/// ".part" are not, so writers can move finished files in).
std::unique_ptr<LiveInput> open_watched_folder(const std::string& path, size_t max_line_bytes, double poll_seconds,
                                               const StreamPosition* resume);

/// A TCP listener on `listen` ("PORT" or "HOST:PORT", IPv4; 127.0.0.1 by default) taking lines
/// from any number of clients at once (at most kMaxTcpClients); never replayable.
std::unique_ptr<LiveInput> open_tcp_input(const std::string& listen, size_t max_line_bytes, const StreamPosition* resume);
constexpr int kMaxTcpClients = 64;

/// Opens the live input `options` name: `data.continuous.listen` (TCP), else `data.path`: "-"
/// (standard input), a FIFO, a folder (watched), or a file (followed with `follow`). With
/// `resume`, a replayable input continues just after it; another one logs what is lost. Missing
/// paths and ports in use are UserErrors naming the key.
std::unique_ptr<LiveInput> open_live_input(const DataOptions& options, const StreamPosition* resume);

}  // namespace stratum::data
