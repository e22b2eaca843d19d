#include "data/sources/parquet_rows.h"

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <parquet/arrow/reader.h>
#include <parquet/arrow/schema.h>
#include <parquet/exception.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/text.h"
#include "data/sources/line_reader.h"

namespace stratum::data {
namespace {

// Why a column of this type cannot become JSON, or empty when it can.
std::string unsupported(const arrow::DataType& type) {
  switch (type.id()) {
    case arrow::Type::NA: case arrow::Type::BOOL:
    case arrow::Type::INT8: case arrow::Type::INT16: case arrow::Type::INT32: case arrow::Type::INT64:
    case arrow::Type::UINT8: case arrow::Type::UINT16: case arrow::Type::UINT32: case arrow::Type::UINT64:
    case arrow::Type::FLOAT: case arrow::Type::DOUBLE:
    case arrow::Type::STRING: case arrow::Type::LARGE_STRING: case arrow::Type::STRING_VIEW:
    case arrow::Type::TIMESTAMP: case arrow::Type::DATE32: case arrow::Type::DATE64:
      return "";
    case arrow::Type::DICTIONARY:
      return unsupported(*static_cast<const arrow::DictionaryType&>(type).value_type());
    case arrow::Type::LIST: case arrow::Type::LARGE_LIST: case arrow::Type::FIXED_SIZE_LIST:
    case arrow::Type::STRUCT:
      for (const auto& child : type.fields()) {
        if (std::string why = unsupported(*child->type()); !why.empty()) return why;
      }
      return "";
    default:
      return type.ToString();
  }
}

double seconds_per_unit(arrow::TimeUnit::type unit) {
  switch (unit) {
    case arrow::TimeUnit::SECOND: return 1;
    case arrow::TimeUnit::MILLI: return 1e-3;
    case arrow::TimeUnit::MICRO: return 1e-6;
    default: return 1e-9;
  }
}

template <class ArrayType>
nlohmann::json integer_at(const arrow::Array& array, int64_t i) {
  return static_cast<const ArrayType&>(array).Value(i);
}

nlohmann::json text_at(std::string_view view, std::string& problem) {
  std::string text(view);
  if (const size_t bad = invalid_utf8_at(text); bad != std::string::npos && problem.empty()) {
    problem = "a string that is not valid UTF-8 (byte " + std::to_string(bad) + ")";
  }
  return text;
}

nlohmann::json value_at(const arrow::Array& array, int64_t i, std::string& problem);

// Element i of a list array (plain, large or fixed-size) as a JSON array.
template <class ListArray>
nlohmann::json list_at(const ListArray& list, int64_t i, std::string& problem) {
  nlohmann::json items = nlohmann::json::array();
  const auto begin = static_cast<int64_t>(list.value_offset(i)), length = static_cast<int64_t>(list.value_length(i));
  for (int64_t k = 0; k < length; ++k) items.push_back(value_at(*list.values(), begin + k, problem));
  return items;
}

// Element i of `array` as JSON: the value a JSONL writer of the same table would write (times
// and dates in seconds since the epoch). Strings that are not UTF-8 set `problem`.
nlohmann::json value_at(const arrow::Array& array, int64_t i, std::string& problem) {
  if (array.IsNull(i)) return nullptr;
  switch (array.type_id()) {
    case arrow::Type::BOOL: return static_cast<const arrow::BooleanArray&>(array).Value(i);
    case arrow::Type::INT8: return integer_at<arrow::Int8Array>(array, i);
    case arrow::Type::INT16: return integer_at<arrow::Int16Array>(array, i);
    case arrow::Type::INT32: return integer_at<arrow::Int32Array>(array, i);
    case arrow::Type::INT64: return integer_at<arrow::Int64Array>(array, i);
    case arrow::Type::UINT8: return integer_at<arrow::UInt8Array>(array, i);
    case arrow::Type::UINT16: return integer_at<arrow::UInt16Array>(array, i);
    case arrow::Type::UINT32: return integer_at<arrow::UInt32Array>(array, i);
    case arrow::Type::UINT64: return integer_at<arrow::UInt64Array>(array, i);
    case arrow::Type::FLOAT:
    case arrow::Type::DOUBLE: {
      const double v = array.type_id() == arrow::Type::FLOAT ? static_cast<const arrow::FloatArray&>(array).Value(i)
                                                               : static_cast<const arrow::DoubleArray&>(array).Value(i);
      // JSON has no NaN or infinity; JSONL writers write null, and so does this.
      return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    }
    case arrow::Type::STRING: return text_at(static_cast<const arrow::StringArray&>(array).GetView(i), problem);
    case arrow::Type::LARGE_STRING: return text_at(static_cast<const arrow::LargeStringArray&>(array).GetView(i), problem);
    case arrow::Type::STRING_VIEW: return text_at(static_cast<const arrow::StringViewArray&>(array).GetView(i), problem);
    case arrow::Type::TIMESTAMP: {
      const auto& type = static_cast<const arrow::TimestampType&>(*array.type());
      return static_cast<double>(static_cast<const arrow::TimestampArray&>(array).Value(i)) * seconds_per_unit(type.unit());
    }
    case arrow::Type::DATE32: return static_cast<double>(static_cast<const arrow::Date32Array&>(array).Value(i)) * 86400.0;
    case arrow::Type::DATE64: return static_cast<double>(static_cast<const arrow::Date64Array&>(array).Value(i)) * 1e-3;
    case arrow::Type::DICTIONARY: {
      const auto& dictionary = static_cast<const arrow::DictionaryArray&>(array);
      return value_at(*dictionary.dictionary(), dictionary.GetValueIndex(i), problem);
    }
    case arrow::Type::LIST: return list_at(static_cast<const arrow::ListArray&>(array), i, problem);
    case arrow::Type::LARGE_LIST: return list_at(static_cast<const arrow::LargeListArray&>(array), i, problem);
    case arrow::Type::FIXED_SIZE_LIST: return list_at(static_cast<const arrow::FixedSizeListArray&>(array), i, problem);
    case arrow::Type::STRUCT: {
      const auto& structure = static_cast<const arrow::StructArray&>(array);
      nlohmann::json object = nlohmann::json::object();
      for (int k = 0; k < structure.num_fields(); ++k) {
        object[structure.struct_type()->field(k)->name()] = value_at(*structure.field(k), i, problem);
      }
      return object;
    }
    default:
      // Refused when the file was opened (unsupported()); a file cannot change type mid-way.
      throw UserError("a Parquet column of type " + array.type()->ToString() + " has no JSON form");
  }
}

// The Parquet leaf columns under a top-level field (a list or struct has several).
void collect_leaves(const parquet::arrow::SchemaField& field, std::vector<int>& leaves) {
  if (field.is_leaf()) leaves.push_back(field.column_index);
  for (const auto& child : field.children) collect_leaves(child, leaves);
}

}  // namespace

struct ParquetRows::State {
  std::string path;
  std::unique_ptr<parquet::arrow::FileReader> file;
  std::unique_ptr<arrow::RecordBatchReader> batches;
  std::shared_ptr<arrow::RecordBatch> batch;
  int64_t in_batch = 0;   // next row of `batch`
  int64_t next_row = 0;   // next row of the file
  int64_t declared = 0;

  [[noreturn]] void fail(const std::string& what) const {
    throw UserError("data.path: " + path + ": " + what);
  }
  void check(const arrow::Status& status, const char* doing) const {
    if (!status.ok()) fail(std::string("not readable as Parquet (") + doing + ": " + printable(status.message(), 200) + ")");
  }
};

ParquetRows::ParquetRows(const std::string& path, const std::vector<std::string>& required,
                         const std::vector<std::string>& optional)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  s.path = path;
  try {
    auto opened = arrow::io::ReadableFile::Open(path);
    if (!opened.ok()) s.fail("cannot open (" + printable(opened.status().message(), 200) + ")");
    parquet::arrow::FileReaderBuilder builder;
    s.check(builder.Open(*opened), "footer");
    // Rows are decoded on the reading thread; Arrow's own thread pool would compete with the loader's.
    parquet::ArrowReaderProperties properties(/*use_threads=*/false);
    properties.set_batch_size(1024);
    builder.properties(properties);
    builder.memory_pool(arrow::default_memory_pool());
    s.check(builder.Build(&s.file), "schema");
    s.declared = s.file->parquet_reader()->metadata()->num_rows();

    const auto& fields = s.file->manifest().schema_fields;
    std::vector<int> leaves;
    std::vector<std::string> names;
    const auto take = [&](const std::string& name, bool must) {
      if (name.empty() || std::find(names.begin(), names.end(), name) != names.end()) return;
      const auto found = std::find_if(fields.begin(), fields.end(), [&](const auto& f) { return f.field->name() == name; });
      if (found == fields.end()) {
        if (!must) return;
        std::vector<std::string> present;
        for (const auto& f : fields) present.push_back(f.field->name());
        s.fail("no column \"" + name + "\" (the file has: " + printable(join(present, ", "), 300) + ")");
      }
      if (const std::string why = unsupported(*found->field->type()); !why.empty()) {
        s.fail("column \"" + name + "\" holds " + why + ", which Stratum does not read (strings, numbers, booleans, "
               "times, lists and structs of them)");
      }
      names.push_back(name);
      collect_leaves(*found, leaves);
    };
    for (const std::string& name : required) take(name, true);
    for (const std::string& name : optional) take(name, false);
    std::sort(leaves.begin(), leaves.end());
    std::vector<int> groups(static_cast<size_t>(s.file->num_row_groups()));
    for (size_t g = 0; g < groups.size(); ++g) groups[g] = static_cast<int>(g);
    auto batches = s.file->GetRecordBatchReader(groups, leaves);
    s.check(batches.status(), "columns");
    s.batches = std::move(*batches);
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    s.fail(std::string("not readable as Parquet (") + printable(e.what(), 200) + ")");
  }
}

ParquetRows::~ParquetRows() = default;

int64_t ParquetRows::declared_rows() const { return state_->declared; }

bool ParquetRows::next(ParquetRow& row) {
  State& s = *state_;
  try {
    while (!s.batch || s.in_batch >= s.batch->num_rows()) {
      s.check(s.batches->ReadNext(&s.batch), "rows");
      s.in_batch = 0;
      if (!s.batch) {
        if (s.next_row != s.declared) {
          s.fail("the footer declares " + std::to_string(s.declared) + " rows but " + std::to_string(s.next_row) + " were read");
        }
        return false;
      }
    }
    std::string problem;
    nlohmann::json object = nlohmann::json::object();
    for (int c = 0; c < s.batch->num_columns(); ++c) {
      object[s.batch->schema()->field(c)->name()] = value_at(*s.batch->column(c), s.in_batch, problem);
    }
    row.index = s.next_row++;
    ++s.in_batch;
    row.problem.reset();
    row.json.clear();
    if (!problem.empty()) {
      row.problem = problem;
      return true;
    }
    row.json = object.dump();
    if (row.json.size() > LineReader::kMaxLineBytes) {
      row.problem = LineReader::too_long("row");
      row.json.clear();
    }
    return true;
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    s.fail("damaged at row " + std::to_string(s.next_row) + " (" + printable(e.what(), 200) + ")");
  }
}

bool parquet_available() { return true; }

}  // namespace stratum::data
