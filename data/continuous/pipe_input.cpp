// Standard input or a FIFO, read as lines arrive (live_input.h).

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "data/continuous/line_splitter.h"
#include "data/continuous/live_input.h"

namespace stratum::data {
namespace {

class PipeInput final : public LiveInput {
 public:
  PipeInput(const std::string& path, size_t max_line_bytes, const StreamPosition* resume)
      : name_(path == "-" ? "stdin" : path), splitter_(max_line_bytes) {
    if (path == "-") {
      fd_ = 0;
    } else {
      // Non-blocking open: a FIFO without a writer yet must not hang the run.
      fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      if (fd_ < 0) throw UserError("data.path: cannot open " + path + ": " + std::strerror(errno));
      owned_ = true;
    }
    if (resume) {
      sequence_ = resume->sequence;
      log::warn(name_ + " cannot be read again: records the previous run read after its last checkpoint are lost; "
                        "this run counts on from line " + std::to_string(sequence_ + 1));
    }
  }
  ~PipeInput() override {
    if (owned_) ::close(fd_);
  }

  InputStatus next(InputLine& line, double timeout_seconds) override {
    for (;;) {
      SplitLine piece;
      if (splitter_.pop(piece) || (ended_ && splitter_.pop_rest(piece))) return deliver(piece, line);
      if (ended_) return InputStatus::ended;
      pollfd p{fd_, POLLIN, 0};
      const int timeout_ms = static_cast<int>(std::max(0.0, timeout_seconds) * 1000);
      const int ready = ::poll(&p, 1, timeout_ms);
      if (ready < 0 && errno != EINTR) throw UserError(name_ + ": " + std::strerror(errno));
      if (ready <= 0) return InputStatus::idle;
      char buffer[1 << 16];
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n > 0) {
        got_data_ = true;
        splitter_.feed(buffer, static_cast<size_t>(n));
      } else if (n == 0) {
        // A FIFO no writer has opened yet reads as ended too: wait for the first writer.
        if (owned_ && !got_data_) {
          std::this_thread::sleep_for(std::chrono::milliseconds(std::min(timeout_ms, 50)));
          return InputStatus::idle;
        }
        ended_ = true;
      } else if (errno != EINTR && errno != EAGAIN) {
        throw UserError(name_ + ": " + std::strerror(errno));
      }
    }
  }

  bool replayable() const override { return false; }
  std::string describe() const override { return "reading " + name_ + " as lines arrive"; }

 private:
  InputStatus deliver(const SplitLine& piece, InputLine& line) {
    line.text = piece.text;
    line.problem = piece.problem;
    line.source = name_;
    line.offset = offset_;
    line.line = ++sequence_;
    offset_ += piece.bytes;
    line.after = StreamPosition{"", 0, offset_, sequence_};
    return InputStatus::line;
  }

  std::string name_;
  int fd_ = -1;
  bool owned_ = false, got_data_ = false, ended_ = false;
  LineSplitter splitter_;
  uint64_t offset_ = 0, sequence_ = 0;
};

}  // namespace

std::unique_ptr<LiveInput> open_pipe_input(const std::string& path, size_t max_line_bytes, const StreamPosition* resume) {
  return std::make_unique<PipeInput>(path, max_line_bytes, resume);
}

}  // namespace stratum::data
