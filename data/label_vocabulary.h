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
  /// `allowed` empty: any label, ids in first-seen order.
  explicit LabelVocabulary(const std::vector<std::string>& allowed);

  /// The id of `name`, adding it when the vocabulary grows; -1 when it is not allowed (a
  /// fixed vocabulary, or a growing one that already holds kMaxLabels names).
  int32_t id(const std::string& name);

  const std::vector<std::string>& names() const { return names_; }
  bool fixed() const { return fixed_; }

  /// A stream with more distinct labels than this is garbage, not a label space.
  static constexpr size_t kMaxLabels = 65536;

 private:
  bool fixed_;
  std::map<std::string, int32_t> ids_;
  std::vector<std::string> names_;
};

}  // namespace stratum::data
