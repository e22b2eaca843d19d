#include "data/continuous/line_splitter.h"

namespace stratum::data {

void LineSplitter::feed(const char* data, size_t size) {
  if (start_ > 0 && start_ == buffer_.size()) buffer_.clear(), start_ = scan_ = 0;
  if (start_ > (size_t{1} << 16) && start_ * 2 > buffer_.size()) {
    buffer_.erase(0, start_);
    scan_ -= start_;
    start_ = 0;
  }
  buffer_.append(data, size);
  // An unterminated line past the bound is dropped now, not held: memory stays bounded.
  if (buffer_.find('\n', scan_) == std::string::npos && buffer_.size() - start_ > max_) {
    discarding_ = true;
    discarded_ += buffer_.size() - start_;
    buffer_.clear();
    start_ = scan_ = 0;
  }
}

void LineSplitter::emit(size_t end, uint64_t newline_bytes, SplitLine& line) {
  const size_t length = end - start_;
  line.bytes = discarded_ + length + newline_bytes;
  const bool too_long = discarding_ || length > max_;
  line.problem = too_long ? "line longer than " + std::to_string(max_) + " bytes (data.continuous.max_line_bytes)" : "";
  line.text.clear();
  if (!too_long) {
    line.text.assign(buffer_, start_, length);
    if (!line.text.empty() && line.text.back() == '\r') line.text.pop_back();
  }
  discarding_ = false;
  discarded_ = 0;
}

bool LineSplitter::pop(SplitLine& line) {
  const size_t newline = buffer_.find('\n', scan_);
  if (newline == std::string::npos) {
    scan_ = buffer_.size();
    return false;
  }
  emit(newline, 1, line);
  start_ = scan_ = newline + 1;
  return true;
}

bool LineSplitter::pop_rest(SplitLine& line) {
  if (pending_bytes() == 0) return false;
  emit(buffer_.size(), 0, line);
  clear();
  return true;
}

void LineSplitter::clear() {
  buffer_.clear();
  start_ = scan_ = 0;
  discarded_ = 0;
  discarding_ = false;
}

}  // namespace stratum::data
