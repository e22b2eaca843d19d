#include "data/binary_io.h"

#include <cstring>
#include <istream>
#include <ostream>

#include "core/error.h"

namespace stratum::data::binary {
namespace {

void read_exact(std::istream& in, void* out, size_t size, const std::string& where) {
  in.read(static_cast<char*>(out), static_cast<std::streamsize>(size));
  if (static_cast<size_t>(in.gcount()) != size) throw UserError(where + ": truncated sampler state");
}

}  // namespace

void write_u64(std::ostream& out, uint64_t value) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(value >> (8 * i));
  out.write(reinterpret_cast<const char*>(bytes), 8);
}

void write_f64(std::ostream& out, double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  write_u64(out, bits);
}

void write_string(std::ostream& out, const std::string& value) {
  write_u64(out, value.size());
  out.write(value.data(), static_cast<std::streamsize>(value.size()));
}

void write_record(std::ostream& out, const Record& record) {
  write_string(out, record.payload);
  write_u64(out, record.features.size());
  for (float f : record.features) write_f64(out, f);
  write_u64(out, record.labels.size());
  for (int32_t l : record.labels) write_u64(out, static_cast<uint64_t>(static_cast<int64_t>(l)));
  write_f64(out, record.time);
  write_u64(out, record.origin.source);
  write_u64(out, record.origin.offset);
  write_u64(out, record.fields.size());
  for (const std::string& f : record.fields) write_string(out, f);
}

uint64_t read_u64(std::istream& in, const std::string& where) {
  unsigned char bytes[8];
  read_exact(in, bytes, 8, where);
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{bytes[i]} << (8 * i);
  return value;
}

double read_f64(std::istream& in, const std::string& where) {
  const uint64_t bits = read_u64(in, where);
  double value;
  std::memcpy(&value, &bits, 8);
  return value;
}

uint64_t read_count(std::istream& in, const std::string& where, uint64_t max_count) {
  const uint64_t n = read_u64(in, where);
  if (n > max_count) {
    throw UserError(where + ": corrupt sampler state (a count of " + std::to_string(n) + " exceeds " +
                    std::to_string(max_count) + ")");
  }
  return n;
}

std::string read_string(std::istream& in, const std::string& where, uint64_t max_bytes) {
  std::string value(read_count(in, where, max_bytes), '\0');
  read_exact(in, value.data(), value.size(), where);
  return value;
}

Record read_record(std::istream& in, const std::string& where) {
  Record r;
  r.payload = read_string(in, where);
  r.features.resize(read_count(in, where, 1 << 24));
  for (float& f : r.features) f = static_cast<float>(read_f64(in, where));
  r.labels.resize(read_count(in, where, 1 << 16));
  for (int32_t& l : r.labels) l = static_cast<int32_t>(static_cast<int64_t>(read_u64(in, where)));
  r.time = read_f64(in, where);
  r.origin.source = static_cast<uint32_t>(read_u64(in, where));
  r.origin.offset = read_u64(in, where);
  r.fields.resize(read_count(in, where, 1 << 10));
  for (std::string& f : r.fields) f = read_string(in, where);
  return r;
}

}  // namespace stratum::data::binary
