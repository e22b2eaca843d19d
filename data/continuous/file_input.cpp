// A regular file read to its end, or followed as it grows like `tail -F` (live_input.h).

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "data/compression/stream_decompressor.h"
#include "data/continuous/line_splitter.h"
#include "data/continuous/live_input.h"

namespace stratum::data {
namespace {

class FileInput final : public LiveInput {
 public:
  FileInput(const std::string& path, bool follow, size_t max_line_bytes, double poll_seconds, const StreamPosition* resume)
      : path_(path), follow_(follow), poll_seconds_(poll_seconds), splitter_(max_line_bytes) {
    open_file();
    if (resume) sequence_ = resume->sequence;
    if (resume && !resume->file.empty()) {
      if (resume->file == path_ && resume->file_id == inode_) {
        skip_to(resume->offset);
      } else if (follow_) {
        log::warn(path_ + " is not the file the checkpoint was reading (it was rotated or replaced); reading it from "
                          "its start");
      } else {
        throw UserError(path_ + ": not the file the checkpoint was reading (" + resume->file +
                        ", another inode); resume with the same data.path");
      }
    }
  }
  ~FileInput() override {
    if (fd_ >= 0) ::close(fd_);
  }

  InputStatus next(InputLine& line, double timeout_seconds) override {
    for (;;) {
      SplitLine piece;
      if (splitter_.pop(piece)) return deliver(piece, "", line);
      char buffer[1 << 16];
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw UserError(path_ + ": read failed: " + std::strerror(errno));
      }
      if (n > 0) {
        // Compressed files are read by offline runs; a live stream (read at byte offsets) is plain lines.
        if (read_offset_ == 0) {
          if (const auto compressed = decompressor_for(buffer, static_cast<size_t>(n), path_)) {
            throw UserError(path_ + ": " + compressed->format() + "-compressed; a live stream reads plain lines (pipe it "
                            "in: zcat FILE | stratum train --set data.path=-)");
          }
        }
        read_offset_ += static_cast<uint64_t>(n);
        splitter_.feed(buffer, static_cast<size_t>(n));
        continue;
      }
      // At the end of what has been written so far.
      if (!follow_) {
        if (splitter_.pop_rest(piece)) return deliver(piece, "", line);
        return InputStatus::ended;
      }
      if (const InputStatus s = check_rotation(line); s == InputStatus::line) return s;
      if (reopened_) {
        reopened_ = false;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(std::min(timeout_seconds, poll_seconds_)));
      return InputStatus::idle;
    }
  }

  bool replayable() const override { return true; }
  std::string describe() const override { return (follow_ ? "following " : "reading ") + path_; }

 private:
  void open_file() {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) throw UserError("data.path: cannot open " + path_ + ": " + std::strerror(errno));
    struct stat st {};
    ::fstat(fd_, &st);
    inode_ = static_cast<uint64_t>(st.st_ino);
    read_offset_ = line_start_ = 0;
    line_number_ = 0;
    splitter_.clear();
  }

  // Resume: counts the lines before `offset` (for their numbers in rejects.jsonl) and continues there.
  void skip_to(uint64_t offset) {
    char buffer[1 << 16];
    uint64_t left = offset;
    while (left > 0) {
      const ssize_t n = ::read(fd_, buffer, static_cast<size_t>(std::min<uint64_t>(left, sizeof buffer)));
      if (n <= 0) throw UserError(path_ + ": shorter than the position the checkpoint committed (" + std::to_string(offset) + " bytes)");
      line_number_ += static_cast<uint64_t>(std::count(buffer, buffer + n, '\n'));
      left -= static_cast<uint64_t>(n);
    }
    read_offset_ = line_start_ = offset;
  }

  // Rotation (the path names another file now), deletion and truncation, as tail -F sees them.
  // Returns `line` when the old file's unterminated last line (or its loss) must be delivered.
  InputStatus check_rotation(InputLine& line) {
    struct stat st {};
    if (::stat(path_.c_str(), &st) != 0) {
      if (!deleted_) log::warn(path_ + " was deleted; waiting for it to be created again");
      deleted_ = true;
      SplitLine piece;
      if (splitter_.pop_rest(piece)) return deliver(piece, "line cut off: the followed file was deleted", line);
      return InputStatus::idle;
    }
    if (static_cast<uint64_t>(st.st_ino) != inode_) {
      // The old file is read to its end (a writer that renamed it has finished it): its last
      // unterminated line is a line, then the new file starts.
      SplitLine piece;
      if (splitter_.pop_rest(piece)) return deliver(piece, "", line);
      ::close(fd_);
      log::info(path_ + (deleted_ ? " was created again" : " was rotated") + "; reading the new file from its start");
      deleted_ = false;
      open_file();
      reopened_ = true;
      return InputStatus::idle;
    }
    if (static_cast<uint64_t>(st.st_size) < read_offset_) {
      log::warn(path_ + " was truncated; reading it again from its start");
      SplitLine piece;
      const bool cut = splitter_.pop_rest(piece);
      ::lseek(fd_, 0, SEEK_SET);
      read_offset_ = line_start_ = 0;
      line_number_ = 0;
      splitter_.clear();
      reopened_ = true;
      if (cut) {
        return deliver(piece, "line cut off: the followed file was truncated", line);
      }
    }
    return InputStatus::idle;
  }

  InputStatus deliver(const SplitLine& piece, const std::string& problem, InputLine& line) {
    line.text = piece.text;
    line.problem = problem.empty() ? piece.problem : problem;
    line.source = path_;
    line.offset = line_start_;
    line.line = ++line_number_;
    line_start_ += piece.bytes;
    line.after = StreamPosition{path_, inode_, line_start_, ++sequence_};
    return InputStatus::line;
  }

  std::string path_;
  bool follow_;
  double poll_seconds_;
  LineSplitter splitter_;
  int fd_ = -1;
  uint64_t inode_ = 0, read_offset_ = 0, line_start_ = 0, line_number_ = 0, sequence_ = 0;
  bool deleted_ = false, reopened_ = false;
};

}  // namespace

std::unique_ptr<LiveInput> open_file_input(const std::string& path, bool follow, size_t max_line_bytes,
                                           double poll_seconds, const StreamPosition* resume) {
  return std::make_unique<FileInput>(path, follow, max_line_bytes, poll_seconds, resume);
}

}  // namespace stratum::data
