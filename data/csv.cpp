#include "data/csv.h"

#include "core/error.h"
#include "core/text.h"
#include "data/sources/line_reader.h"

namespace stratum::data {

CsvReader::CsvReader(const std::string& path) : lines_(std::make_unique<LineReader>(path)), where_(path) {}
CsvReader::~CsvReader() = default;

bool CsvReader::next_line(std::string& line) {
  if (!lines_->next(line)) return false;
  if (lines_->truncated()) {
    throw UserError(where_ + ":" + std::to_string(lines_->line_number()) + ": " + LineReader::too_long("line"));
  }
  return true;
}

bool CsvReader::next(CsvRow& row) {
  row.fields.clear();
  std::string line;
  do {
    if (!next_line(line)) return false;
  } while (line.empty());
  row.line = static_cast<int64_t>(lines_->line_number());
  std::string field;
  bool quoted = false, was_quoted = false;
  size_t i = 0;
  while (true) {
    if (i == line.size()) {
      if (!quoted) break;
      // A quoted field continues on the next physical line.
      if (!next_line(line)) throw UserError(where_ + ":" + std::to_string(row.line) + ": unterminated quoted field");
      field += '\n';
      i = 0;
      continue;
    }
    const char c = line[i++];
    if (quoted) {
      if (c != '"') {
        field += c;
      } else if (i < line.size() && line[i] == '"') {
        field += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (c == ',') {
      row.fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else {
      field += c;
    }
  }
  row.fields.push_back(std::move(field));
  return true;
}

size_t CsvTable::column(const std::string& name, const std::string& file) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  throw UserError(file + ":1: no column \"" + name + "\" (columns: " + join(header, ", ") + ")");
}

CsvTable read_csv(const std::string& path) {
  CsvReader reader(path);
  CsvTable table;
  CsvRow row;
  if (!reader.next(row)) throw UserError(path + ": empty file (expected a header row)");
  table.header = row.fields;
  for (std::string& name : table.header) {
    // Tolerate a UTF-8 byte-order mark and spaces around names, as spreadsheets write them.
    if (name.rfind("\xEF\xBB\xBF", 0) == 0) name.erase(0, 3);
    while (!name.empty() && name.back() == ' ') name.pop_back();
    while (!name.empty() && name.front() == ' ') name.erase(0, 1);
  }
  while (reader.next(row)) {
    if (row.fields.size() != table.header.size()) {
      throw UserError(path + ":" + std::to_string(row.line) + ": " + std::to_string(row.fields.size()) +
                      " fields, the header has " + std::to_string(table.header.size()));
    }
    table.rows.push_back(row);
  }
  return table;
}

std::string csv_field(const std::string& value) {
  if (value.find_first_of(",\"\n\r") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += csv_field(fields[i]);
  }
  return out + "\n";
}

}  // namespace stratum::data
