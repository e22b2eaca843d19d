#include "engine/tensorboard_writer.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/error.h"

namespace stratum {
namespace {

// Protobuf wire format for the fields used here: varint, 64-bit, length-delimited, 32-bit.
void put_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

void put_tag(std::string& out, int field, int wire_type) { put_varint(out, static_cast<uint64_t>(field << 3 | wire_type)); }

template <class T>
void put_fixed(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts only, as LibTorch itself assumes
  out.append(bytes, sizeof(T));
}

void put_bytes(std::string& out, int field, const std::string& bytes) {
  put_tag(out, field, 2);
  put_varint(out, bytes.size());
  out += bytes;
}

double wall_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event { double wall_time = 1; int64 step = 2; ... } with the payload field already encoded.
std::string event(int64_t step, const std::string& payload) {
  std::string out;
  put_tag(out, 1, 1);
  put_fixed(out, wall_time());
  put_tag(out, 2, 0);
  put_varint(out, static_cast<uint64_t>(step));
  return out + payload;
}

uint32_t masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace

uint32_t crc32c(const void* data, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

TensorBoardWriter::TensorBoardWriter(const std::string& dir) {
  char host[256] = "localhost";
  gethostname(host, sizeof host - 1);
  path_ = dir + "/events.out.tfevents." + std::to_string(static_cast<int64_t>(wall_time())) + "." + host;
  file_ = std::fopen(path_.c_str(), "wb");
  if (!file_) throw UserError(path_ + ": cannot create the TensorBoard event file: " + std::strerror(errno));
  std::string version;
  put_bytes(version, 3, "brain.Event:2");  // Event.file_version
  write_event(event(0, version));
}

TensorBoardWriter::~TensorBoardWriter() {
  if (file_) std::fclose(file_);
}

void TensorBoardWriter::scalar(const std::string& tag, double value, int64_t step) {
  std::string summary_value;  // Summary.Value { string tag = 1; float simple_value = 2; }
  put_bytes(summary_value, 1, tag);
  put_tag(summary_value, 2, 5);
  put_fixed(summary_value, static_cast<float>(value));
  std::string summary;  // Summary { repeated Value value = 1; }
  put_bytes(summary, 1, summary_value);
  std::string payload;  // Event.summary = 5
  put_bytes(payload, 5, summary);
  write_event(event(step, payload));
}

void TensorBoardWriter::write_event(const std::string& data) {
  // TFRecord: length, masked CRC of the length, data, masked CRC of the data.
  std::string record;
  put_fixed(record, static_cast<uint64_t>(data.size()));
  put_fixed(record, masked(crc32c(record.data(), 8)));
  record += data;
  put_fixed(record, masked(crc32c(data.data(), data.size())));
  std::fwrite(record.data(), 1, record.size(), file_);
  std::fflush(file_);
}

}  // namespace stratum
