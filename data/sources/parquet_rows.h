#pragma once
// Rows of Parquet files, read through Apache Arrow's C++ library (the one the pyarrow wheel
// ships; see cmake/StratumDependencies.cmake). Arrow stays behind parquet_rows.cpp: its headers
// need C++20 and are large, so nothing else includes them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace stratum::data {

/// One row: a JSON object of the projected columns (what a JSONL line of the same data holds),
/// or why the row cannot be used.
struct ParquetRow {
  std::string json;
  std::optional<std::string> problem;
  int64_t index = 0;  ///< 0-based row of the file
};

/// Reads one Parquet file's rows in order, a record batch at a time (row group after row group,
/// so memory stays bounded by a batch), decoding only the columns asked for.
class ParquetRows {
 public:
  /// `required` columns must exist; `optional` ones are read when present. A file that is not
  /// Parquet, is damaged, or lacks a required column, and a column of a type with no JSON form
  /// (binary, decimal, map), are UserErrors naming the file and the column.
  ParquetRows(const std::string& path, const std::vector<std::string>& required,
              const std::vector<std::string>& optional);
  ~ParquetRows();
  ParquetRows(const ParquetRows&) = delete;
  ParquetRows& operator=(const ParquetRows&) = delete;

  /// The next row; false after the last one. Damage found while decoding is a UserError.
  bool next(ParquetRow& row);

  /// Rows the file's footer declares.
  int64_t declared_rows() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

/// Whether this build reads Parquet (Arrow's C++ libraries were found when it was configured).
bool parquet_available();

}  // namespace stratum::data
