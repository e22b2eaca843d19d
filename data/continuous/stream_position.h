#pragma once
// Where a live input stands after a record, so a resumed run reopens it exactly there.

#include <cstdint>
#include <iosfwd>
#include <string>

namespace stratum::data {

/// A committed position in a live stream: the file and byte offset for inputs that can be read
/// again (files, followed files, watched folders), the count of lines delivered for all.
struct StreamPosition {
  std::string file;       ///< file the record came from (empty: standard input, a FIFO, TCP, synthetic)
  uint64_t file_id = 0;   ///< that file's inode: its identity across renames
  uint64_t offset = 0;    ///< byte offset just after the record in that file
  uint64_t sequence = 0;  ///< lines (or generated records) delivered so far, this one included

  void save(std::ostream& out) const;
  static StreamPosition load(std::istream& in, const std::string& where);
};

}  // namespace stratum::data
