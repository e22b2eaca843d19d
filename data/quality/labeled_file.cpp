#include "data/quality/labeled_file.h"

#include <map>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/sources/line_reader.h"

namespace stratum::data {

bool is_jsonl_path(const std::string& path) {
  const auto ends = [&](const std::string& s) {
    return path.size() >= s.size() && path.compare(path.size() - s.size(), s.size(), s) == 0;
  };
  for (const char* compressed : {".gz", ".zst"}) {  // logs.jsonl.gz is JSON lines too
    if (ends(compressed)) return is_jsonl_path(path.substr(0, path.size() - std::string(compressed).size()));
  }
  return ends(".jsonl") || ends(".ndjson");
}

CsvTable read_table_file(const std::string& path) {
  if (!is_jsonl_path(path)) return read_csv(path);
  LineReader in(path);
  CsvTable table;
  std::map<std::string, size_t> column;
  std::vector<nlohmann::json> objects;
  std::vector<int64_t> lines;
  std::string line;
  while (in.next(line)) {
    const auto number = static_cast<int64_t>(in.line_number());
    if (in.truncated()) throw UserError(path + ":" + std::to_string(number) + ": " + LineReader::too_long("line"));
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json object = nlohmann::json::parse(line, nullptr, false);
    if (object.is_discarded() || !object.is_object()) {
      throw UserError(path + ":" + std::to_string(number) + ": not a JSON object");
    }
    for (const auto& [key, value] : object.items()) {
      if (column.emplace(key, table.header.size()).second) table.header.push_back(key);
    }
    objects.push_back(std::move(object));
    lines.push_back(number);
  }
  if (objects.empty()) throw UserError(path + ": empty file (no JSON objects)");
  for (size_t r = 0; r < objects.size(); ++r) {
    CsvRow row{std::vector<std::string>(table.header.size()), lines[r]};
    for (const auto& [key, value] : objects[r].items()) {
      row.fields[column.at(key)] = value.is_string() ? value.get<std::string>() : value.dump();
    }
    table.rows.push_back(std::move(row));
  }
  return table;
}

}  // namespace stratum::data
