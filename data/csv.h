#pragma once
// CSV as RFC 4180 writes it (comma-separated, fields quoted with "" when they hold a comma,
// quote or line break), read row by row with the line each row starts on, for tools whose
// errors must name the file and row.

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

namespace stratum::data {

/// One parsed row and the 1-based line it starts on.
struct CsvRow {
  std::vector<std::string> fields;
  int64_t line = 0;
};

/// Reads `in` row by row; `where` names the file in errors (an unterminated quote).
class CsvReader {
 public:
  CsvReader(std::istream& in, std::string where);
  /// False at the end of the input. Blank lines are skipped.
  bool next(CsvRow& row);

 private:
  std::istream& in_;
  std::string where_;
  int64_t line_ = 0;
};

/// A table read whole: the header's column names and every data row.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<CsvRow> rows;

  /// Index of column `name`; a UserError naming `file` and the columns there are when absent.
  size_t column(const std::string& name, const std::string& file) const;
};

/// Reads `path` (header row first). A missing, empty or ragged file is a UserError naming the
/// file and row.
CsvTable read_csv(const std::string& path);

/// One field quoted as needed.
std::string csv_field(const std::string& value);

/// One line: the fields joined by commas, quoted as needed, ending in '\n'.
std::string csv_line(const std::vector<std::string>& fields);

}  // namespace stratum::data
