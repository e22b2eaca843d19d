#pragma once
// Annotation files: who gave which label to which item, read from CSV or JSONL with
// configurable column names, into the item x annotator table every agreement statistic uses.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {

/// Column (CSV) or field (JSONL) names of an annotation file.
struct AnnotationColumns {
  std::string item = "item";
  std::string annotator = "annotator";
  std::string label = "label";
};

/// Ratings by item and annotator. Items keep file order; annotators and labels are sorted.
struct AnnotationTable {
  std::vector<std::string> items;
  std::vector<std::string> annotators;
  std::vector<std::string> labels;
  std::vector<std::vector<int32_t>> ratings;  ///< [item][annotator]: label index, or -1 when not rated
  int64_t rating_count = 0;
};

/// Reads `path` (see read_table_file: JSONL or CSV with a header row). Each
/// problem is a UserError naming the file and row: a missing column, an empty value, an item
/// rated twice by one annotator, a label outside `known_labels` (when given); an empty file or
/// a single annotator is refused too, since agreement needs two.
AnnotationTable read_annotations(const std::string& path, const AnnotationColumns& columns,
                                 const std::vector<std::string>& known_labels = {});

}  // namespace stratum::data
