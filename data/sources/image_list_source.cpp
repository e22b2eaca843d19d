#include "data/sources/image_list_source.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/sha256.h"
#include "core/text.h"
#include "data/images/decode_batch.h"
#include "data/images/image_records.h"
#include "data/label_vocabulary.h"
#include "data/quality/labeled_file.h"
#include "data/record_fields.h"
#include "data/reject_log.h"
#include "data/splits/stream_splitter.h"

namespace fs = std::filesystem;

namespace stratum::data {
namespace {

// A row's label cell as label names: JSONL lists arrive as JSON text (["a", "b"]).
std::optional<std::string> label_names(const std::string& cell, std::vector<std::string>& names) {
  if (cell.empty()) return std::string("empty label");
  if (cell.front() == '[') {
    const auto list = nlohmann::json::parse(cell, nullptr, false);
    if (list.is_discarded() || !list.is_array()) return std::string("label is not a list of strings");
    for (const auto& item : list) {
      if (!item.is_string() || item.get<std::string>().empty()) return std::string("label list holds a non-string or empty item");
      names.push_back(item.get<std::string>());
    }
    if (names.empty()) return std::string("empty label list");
    return std::nullopt;
  }
  names.push_back(cell);
  return std::nullopt;
}

}  // namespace

SplitData read_image_list_source(const DataOptions& options, const DataContext& context) {
  if (options.path.empty()) throw UserError("data.path: the image_list source needs a CSV or JSONL list of images");
  check_image_options(options);
  const CsvTable table = read_table_file(options.path);
  const size_t path_column = table.column(options.image.path_field, options.path);
  const size_t label_column = table.column(options.image.label_field, options.path);
  const fs::path base = fs::path(options.path).parent_path();
  std::vector<long> field_columns;
  for (const std::string& field : context.slice_fields) {
    const auto at = std::find(table.header.begin(), table.header.end(), field);
    field_columns.push_back(at == table.header.end() ? -1 : static_cast<long>(at - table.header.begin()));
  }

  RejectLog rejects(context.rejects_path, context.append_rejects);
  LabelVocabulary labels(options.labels, static_cast<size_t>(options.max_classes));
  StreamSplitter splitter(options, context, {resolve_unseen_labels(options, options.labels), {}});
  SourceFile list;
  list.role = "image list";
  list.path = options.path;
  SourceFile images;
  images.role = "images listed";
  images.path = base.empty() ? "." : base.string();
  Sha256 listing;  // the images pinned by their listed names and content hashes, in list order
  int64_t index = 0;
  bool more = true;
  // Rows are checked and their files read here in list order, decoded on the workers, then
  // labelled, counted and offered in list order (DecodeBatch).
  DecodeBatch batch(options.image, image_workers(options));
  const auto rejected = [&](const CsvRow& row) {
    return [&, line = static_cast<uint64_t>(row.line)](Record&, const std::optional<std::string>& why) {
      if (index % context.world_size == context.rank) {
        ++list.records_read, ++list.records_rejected;
        rejects.reject(options.path, 0, *why, 1, line);
      }
      ++index;
      return true;
    };
  };
  for (const CsvRow& row : table.rows) {
    const std::string& listed = row.fields[path_column];
    std::vector<std::string> names;
    if (listed.empty()) {
      more = batch.add_rejected("empty " + options.image.path_field, rejected(row));
    } else if (auto problem = label_names(row.fields[label_column], names)) {
      more = batch.add_rejected(*problem, rejected(row));
    } else {
      const fs::path file = fs::path(listed).is_absolute() ? fs::path(listed) : base / listed;
      const std::string shown = printable(listed, 200) + ": ";
      std::error_code ec;
      const auto size = fs::file_size(file, ec);
      std::string bytes;
      const auto read_whole = [&] {
        bytes.resize(size);
        std::ifstream in(file, std::ios::binary);
        return static_cast<bool>(in.read(bytes.data(), static_cast<std::streamsize>(size)));
      };
      if (ec) {
        more = batch.add_rejected(shown + ec.message(), rejected(row));
      } else if (static_cast<int64_t>(size) > options.image.max_file_bytes) {
        more = batch.add_rejected(shown + "file of " + std::to_string(size) + " bytes is over data.image.max_file_bytes",
                                  rejected(row));
      } else if (!read_whole()) {
        more = batch.add_rejected(shown + "cannot read the file", rejected(row));
      } else {
        const std::string line = listed + " " + sha256_hex(bytes) + "\n";
        listing.update(line.data(), line.size());
        images.bytes_read += size;
        more = batch.add(std::move(bytes), file.string(), [&, names, shown, reject = rejected(row), at = &row](
                                                              Record& record, const std::optional<std::string>& decoded) {
          std::optional<std::string> problem = decoded;
          for (size_t i = 0; !problem && i < names.size(); ++i) {
            const int32_t id = labels.id(names[i]);
            if (id < 0) {
              problem = labels.fixed() ? "unknown label \"" + printable(names[i], 60) + "\" (not in data.labels)"
                                       : std::string("more than data.max_classes labels");
            } else {
              record.labels.push_back(id);
            }
          }
          if (problem) return reject(record, shown + *problem);
          const bool mine = index % context.world_size == context.rank;
          record.time = static_cast<double>(index);
          record.origin = {0, static_cast<uint64_t>(at->line)};
          if (!field_columns.empty()) record.fields = row_fields(at->fields, field_columns);
          if (!splitter.add(index, record)) return false;
          if (mine) ++list.records_read, ++list.records_accepted;
          ++index;
          return true;
        });
      }
    }
    if (!more) break;
  }
  if (more) more = batch.flush();
  images.sha256 = listing.hex();
  images.read_to_end = more;
  return finish_image_source(splitter, rejects, labels.names(), {list, images}, options, context, "no usable images");
}

}  // namespace stratum::data
