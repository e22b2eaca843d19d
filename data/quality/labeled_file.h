#pragma once
// A CSV or JSONL file of labeled (or, for selection pools, unlabeled) items, read whole as text
// columns so tools can carry every column through to what they write.

#include <string>
#include <vector>

#include "data/csv.h"

namespace stratum::data {

/// Every row of the file as text fields under one header (JSONL: the union of the keys, in
/// order of first appearance; non-string values as JSON text, absent keys as "").
CsvTable read_table_file(const std::string& path);

/// True for .jsonl / .ndjson paths (JSON lines); anything else is read as CSV.
bool is_jsonl_path(const std::string& path);

}  // namespace stratum::data
