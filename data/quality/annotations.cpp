#include "data/quality/annotations.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/text.h"
#include "data/quality/labeled_file.h"

namespace stratum::data {
namespace {

struct RawRating {
  std::string item, annotator, label;
  int64_t line = 0;
};

std::vector<RawRating> read_ratings(const std::string& path, const AnnotationColumns& columns) {
  const CsvTable table = read_table_file(path);
  const size_t item = table.column(columns.item, path), annotator = table.column(columns.annotator, path),
               label = table.column(columns.label, path);
  std::vector<RawRating> out;
  for (const CsvRow& row : table.rows) out.push_back({row.fields[item], row.fields[annotator], row.fields[label], row.line});
  return out;
}

}  // namespace

AnnotationTable read_annotations(const std::string& path, const AnnotationColumns& columns,
                                 const std::vector<std::string>& known_labels) {
  const std::vector<RawRating> raw = read_ratings(path, columns);
  if (raw.empty()) throw UserError(path + ": no annotations (the file has no data rows)");

  AnnotationTable table;
  std::map<std::string, size_t> item_index;
  std::map<std::string, int32_t> annotator_index, label_index;
  for (const RawRating& r : raw) {
    const std::string where = path + ":" + std::to_string(r.line) + ": ";
    if (r.item.empty()) throw UserError(where + "empty " + columns.item);
    if (r.annotator.empty()) throw UserError(where + "empty " + columns.annotator);
    if (r.label.empty()) throw UserError(where + "empty " + columns.label);
    if (!known_labels.empty() && std::find(known_labels.begin(), known_labels.end(), r.label) == known_labels.end()) {
      const std::string guess = nearest(r.label, known_labels);
      throw UserError(where + "unknown label \"" + r.label + "\"" + (guess.empty() ? "" : " (did you mean " + guess + "?)") +
                      "; known: " + join(known_labels, ", "));
    }
    if (item_index.emplace(r.item, table.items.size()).second) table.items.push_back(r.item);
    annotator_index.emplace(r.annotator, 0);
    label_index.emplace(r.label, 0);
  }
  if (annotator_index.size() < 2) {
    throw UserError(path + ": only one annotator (\"" + annotator_index.begin()->first +
                    "\"); agreement needs ratings from at least two");
  }
  for (auto& [name, id] : annotator_index) {
    id = static_cast<int32_t>(table.annotators.size());
    table.annotators.push_back(name);
  }
  for (auto& [name, id] : label_index) {
    id = static_cast<int32_t>(table.labels.size());
    table.labels.push_back(name);
  }
  table.ratings.assign(table.items.size(), std::vector<int32_t>(table.annotators.size(), -1));
  std::map<std::pair<size_t, int32_t>, int64_t> first_line;
  for (const RawRating& r : raw) {
    const size_t item = item_index.at(r.item);
    const int32_t annotator = annotator_index.at(r.annotator);
    const auto [at, fresh] = first_line.emplace(std::make_pair(item, annotator), r.line);
    if (!fresh) {
      throw UserError(path + ":" + std::to_string(r.line) + ": " + r.annotator + " rated item \"" + r.item +
                      "\" again (first at row " + std::to_string(at->second) + ")");
    }
    table.ratings[item][static_cast<size_t>(annotator)] = label_index.at(r.label);
    ++table.rating_count;
  }
  return table;
}

}  // namespace stratum::data
