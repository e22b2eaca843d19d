#pragma once
// CSV as RFC 4180 writes it (comma-separated, fields quoted with "" when they hold a comma,
// quote or line break), read row by row with the line each row starts on, for tools whose
// errors must name the file and row.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stratum::data {

class LineReader;

/// One parsed row and the 1-based line it starts on.
struct CsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;
};

/// Reads a file row by row (gzip or zstd compressed, too); errors name the file and line (an
/// unterminated quote, a line over LineReader's limit).
class CsvReader {
 public:
  explicit CsvReader(const std::string& path);
  ~CsvReader();
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;
  /// False at the end of the input. Blank lines are skipped.
  bool next(CsvRow& row);

 private:
  bool next_line(std::string& line);
  std::unique_ptr<LineReader> lines_;
  std::string where_;
};

/// A table read whole: the header's column names and every data row.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;

  /// Index of column `name`; a UserError naming `file` and the columns there are when absent.
  size_t column(const std::string& name, const std::string& file) const;
};

/// Reads `path` (header row first; gzip or zstd compressed, too). A missing, empty or ragged
/// file is a UserError naming the file and row.
CsvTable read_csv(const std::string& path);

/// One field quoted as needed.
std::string csv_field(const std::string& value);

/// One line: the fields joined by commas, quoted as needed, ending in '\n'.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace stratum::data
