#include "data/continuous/stream_position.h"

#include "data/binary_io.h"

namespace stratum::data {

void StreamPosition::save(std::ostream& out) const {
  binary::write_string(out, file);
  binary::write_u64(out, file_id);
  binary::write_u64(out, offset);
  binary::write_u64(out, sequence);
}

StreamPosition StreamPosition::load(std::istream& in, const std::string& where) {
  StreamPosition p;
  p.file = binary::read_string(in, where, 1 << 16);
  p.file_id = binary::read_u64(in, where);
  p.offset = binary::read_u64(in, where);
  p.sequence = binary::read_u64(in, where);
  return p;
}

}  // namespace stratum::data
