#pragma once
// Label names to class ids for sources whose labels are strings.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stratum::data {

/// Maps label names to ids: fixed by `data.labels` (other names are unknown), or growing in
/// first-seen order, which a deterministic stream makes deterministic too.
class LabelVocabulary {
 public:
  /// `allowed` empty: any label, ids in first-seen order, at most `max_labels` of them
  /// (data.max_classes: evaluation holds a classes x classes confusion matrix).
  explicit LabelVocabulary(const std::vector<std::string>& allowed, size_t max_labels = 4096);

  /// The id of `name`, adding it when the vocabulary grows; -1 when it is not allowed (a
  /// fixed vocabulary, or a growing one that already holds max_labels names).
  int32_t id(const std::string& name);

  const std::vector<std::string>& names() const { return names_; }
  bool fixed() const { return fixed_; }
  size_t max_labels() const { return max_labels_; }

 private:
  bool fixed_;
  size_t max_labels_;
  std::map<std::string, int32_t> ids_;
  std::vector<std::string> names_;
};

}  // namespace stratum::data
