#include "data/label_vocabulary.h"

namespace stratum::data {

LabelVocabulary::LabelVocabulary(const std::vector<std::string>& allowed, size_t max_labels)
    : fixed_(!allowed.empty()), max_labels_(max_labels) {
  for (const auto& name : allowed) {
    if (ids_.emplace(name, static_cast<int32_t>(names_.size())).second) names_.push_back(name);
  }
}

int32_t LabelVocabulary::id(const std::string& name) {
  const auto it = ids_.find(name);
  if (it != ids_.end()) return it->second;
  if (fixed_ || names_.size() >= max_labels_) return -1;
  const auto id = static_cast<int32_t>(names_.size());
  ids_.emplace(name, id);
  names_.push_back(name);
  return id;
}

}  // namespace stratum::data
