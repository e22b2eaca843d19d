#pragma once
// A registry of entries of one kind (models, data sources, transforms) by unique name. Each
// folder declares its own entry type; the engine holds one registry per kind.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/text.h"

namespace stratum {

/// Entries of one kind, by unique name.
template <class Entry>
class NamedRegistry {
 public:
  explicit NamedRegistry(std::string kind) : kind_(std::move(kind)) {}

  /// Adds an entry; a second entry with the same name is a UserError (two plugins clash).
  void add(Entry entry) {
    const std::string name = entry.name;
    if (name.empty()) throw UserError("cannot register a " + kind_ + " without a name");
    if (!entries_.emplace(name, std::move(entry)).second) {
      throw UserError("a " + kind_ + " named \"" + name + "\" is already registered");
    }
  }

  /// The entry called `name`, or nullptr.
  const Entry* find(const std::string& name) const {
    const auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// Names in sorted order.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : entries_) out.push_back(entry.first);
    return out;
  }

  /// "unknown model "x" (did you mean y?); registered: a, b" for error messages.
  std::string unknown_message(const std::string& name) const { return unknown_name_message(kind_, name, names()); }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace stratum
