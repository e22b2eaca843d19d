#pragma once
// Little-endian binary fields for sampler state in checkpoints. Reads are bounded: a length
// read from a file never allocates more than the caller allows, and a short read is a
// UserError naming the file.

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/record.h"

namespace stratum::data::binary {

void write_u64(std::ostream& out, uint64_t value);
void write_f64(std::ostream& out, double value);
void write_string(std::ostream& out, const std::string& value);
void write_record(std::ostream& out, const Record& record);

uint64_t read_u64(std::istream& in, const std::string& where);
double read_f64(std::istream& in, const std::string& where);
/// Reads a length-prefixed string of at most `max_bytes`.
std::string read_string(std::istream& in, const std::string& where, uint64_t max_bytes = uint64_t{1} << 30);
/// Reads a count and checks it is at most `max_count`.
uint64_t read_count(std::istream& in, const std::string& where, uint64_t max_count);
Record read_record(std::istream& in, const std::string& where);

}  // namespace stratum::data::binary
