// A folder watched for new files, each read whole once, in name order (live_input.h).

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "core/error.h"
#include "core/log.h"
#include "data/continuous/live_input.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// Files still being written are expected under a hidden or temporary name, then moved in.
bool taken_when_due(const std::string& name) {
  const auto ends_with = [&](const std::string& tail) {
    return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
  };
  return !name.empty() && name[0] != '.' && !ends_with(".tmp") && !ends_with(".part");
}

class WatchedFolder final : public LiveInput {
 public:
  WatchedFolder(const std::string& path, size_t max_line_bytes, double poll_seconds, const StreamPosition* resume)
      : folder_(path), max_(max_line_bytes), poll_seconds_(poll_seconds) {
    std::error_code error;
    if (!fs::is_directory(folder_, error)) throw UserError("data.path: " + path + " is not a readable folder");
    if (resume && !resume->file.empty()) {
      // Files before the checkpoint's are done; the checkpoint's own continues after its position.
      const std::string name = fs::path(resume->file).filename().string();
      last_taken_ = name;
      sequence_ = resume->sequence;
      if (fs::exists(resume->file, error)) {
        current_ = open_file_input(resume->file, false, max_, poll_seconds_, resume);
      } else {
        log::warn(resume->file + " (the file the checkpoint was reading) is gone; continuing with the next file");
      }
    } else if (resume) {
      sequence_ = resume->sequence;
    }
  }

  InputStatus next(InputLine& line, double timeout_seconds) override {
    for (;;) {
      if (current_) {
        const InputStatus s = current_->next(line, timeout_seconds);
        if (s == InputStatus::line) {
          line.after.sequence = ++sequence_;
          return s;
        }
        current_.reset();  // read whole: the next file in name order
      }
      const std::string next_name = next_file();
      if (next_name.empty()) {
        std::this_thread::sleep_for(std::chrono::duration<double>(std::min(timeout_seconds, poll_seconds_)));
        return InputStatus::idle;
      }
      last_taken_ = next_name;
      log::info("taking " + (folder_ / next_name).string());
      current_ = open_file_input((folder_ / next_name).string(), false, max_, poll_seconds_, nullptr);
    }
  }

  bool replayable() const override { return true; }
  std::string describe() const override { return "watching " + folder_.string() + " for new files"; }

 private:
  // The first file after the last one taken, in name order; files that arrive with an earlier
  // name are never taken (warned about once each, up to a bound).
  std::string next_file() {
    std::string best;
    std::error_code error;
    for (const fs::directory_entry& e : fs::directory_iterator(folder_, error)) {
      if (!e.is_regular_file(error)) continue;
      const std::string name = e.path().filename().string();
      if (!taken_when_due(name)) continue;
      if (!last_taken_.empty() && name <= last_taken_) {
        if (name != last_taken_ && warned_.size() < 1000 && warned_.insert(name).second) {
          log::warn(e.path().string() + " arrived after " + last_taken_ + " but sorts before it; files are taken in "
                                        "name order, so it is not read (name files by arrival, e.g. by timestamp)");
        }
        continue;
      }
      if (best.empty() || name < best) best = name;
    }
    return best;
  }

  fs::path folder_;
  size_t max_;
  double poll_seconds_;
  std::unique_ptr<LiveInput> current_;
  std::string last_taken_;
  uint64_t sequence_ = 0;
  std::set<std::string> warned_;
};

}  // namespace

std::unique_ptr<LiveInput> open_watched_folder(const std::string& path, size_t max_line_bytes, double poll_seconds,
                                               const StreamPosition* resume) {
  return std::make_unique<WatchedFolder>(path, max_line_bytes, poll_seconds, resume);
}

}  // namespace stratum::data
