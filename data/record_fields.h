#pragma once
// The values a record keeps for evaluation by slice (Record::fields), read from the JSON
// object or the table row the record came from.

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace stratum::data {

/// Each of `paths` (a key, or a dotted path into nested objects: "user.region") looked up in
/// `object`, as its value's JSON text; "" where the object has no such value (or null).
std::vector<std::string> json_fields(const nlohmann::json& object, const std::vector<std::string>& paths);

/// Each of `columns` (-1: the table has no such column) of a table row as a JSON string; ""
/// for an empty or missing cell.
std::vector<std::string> row_fields(const std::vector<std::string>& row, const std::vector<long>& columns);

}  // namespace stratum::data
