#pragma once
// TensorBoard event files written directly (no TensorFlow, no protobuf library): TFRecord
// framing with masked CRC-32C, and the few Event / Summary protobuf fields scalars need.

#include <cstdint>
#include <cstdio>
#include <string>

namespace stratum {

/// CRC-32C (Castagnoli) of `size` bytes, as TFRecord frames use it.
uint32_t crc32c(const void* data, size_t size);

/// Appends scalar summaries to `<dir>/events.out.tfevents.<seconds>.<host>`, flushed per event,
/// so `tensorboard --logdir <dir>` shows a run while it trains.
class TensorBoardWriter {
 public:
  /// Creates the file and writes the version event. A UserError when it cannot be created.
  explicit TensorBoardWriter(const std::string& dir);
  ~TensorBoardWriter();
  TensorBoardWriter(const TensorBoardWriter&) = delete;
  TensorBoardWriter& operator=(const TensorBoardWriter&) = delete;

  /// One scalar point of series `tag` at `step`.
  void scalar(const std::string& tag, double value, int64_t step);

  const std::string& path() const { return path_; }

 private:
  void write_event(const std::string& event);

  std::string path_;
  std::FILE* file_ = nullptr;
};

}  // namespace stratum
