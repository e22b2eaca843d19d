#include "data/record_fields.h"

#include <nlohmann/json.hpp>

#include "core/text.h"

namespace stratum::data {

std::vector<std::string> json_fields(const nlohmann::json& object, const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  out.reserve(paths.size());
  for (const std::string& path : paths) {
    const nlohmann::json* at = &object;
    for (const std::string& key : split(path, '.')) {
      if (!at->is_object()) {
        at = nullptr;
        break;
      }
      const auto it = at->find(key);
      at = it == at->end() ? nullptr : &*it;
      if (!at) break;
    }
    // A top-level key that itself holds dots ("a.b": 1) is found whole.
    if (!at && object.is_object() && object.contains(path)) at = &object[path];
    out.push_back(at && !at->is_null() ? at->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "");
  }
  return out;
}

std::vector<std::string> row_fields(const std::vector<std::string>& row, const std::vector<long>& columns) {
  std::vector<std::string> out;
  out.reserve(columns.size());
  for (const long column : columns) {
    const bool present = column >= 0 && static_cast<size_t>(column) < row.size() && !row[static_cast<size_t>(column)].empty();
    out.push_back(present ? nlohmann::json(row[static_cast<size_t>(column)])
                                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                          : "");
  }
  return out;
}

}  // namespace stratum::data
