#pragma once
// What a config value must satisfy. Declared next to each field (see config.h) so parsing,
// `--set`, `--help` and error messages all come from the same declaration.

#include <limits>
#include <string>
#include <vector>

namespace stratum {

/// A constraint on one config field: a numeric range, a set of allowed words, or "required".
struct Rule {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  bool min_exclusive = false;
  std::vector<std::string> choices;  ///< allowed words for string fields (empty: any)
  bool required = false;             ///< the key must be present in the YAML

  /// Describes the rule for messages and help ("a positive number", "one of: adamw, sgd").
  std::string describe(bool integer) const;
};

inline Rule any_value() { return {}; }
inline Rule positive() {
  Rule r;
  r.min = 0;
  r.min_exclusive = true;
  return r;
}
inline Rule at_least(double lo) {
  Rule r;
  r.min = lo;
  return r;
}
inline Rule at_most(double hi) {
  Rule r;
  r.max = hi;
  return r;
}
inline Rule in_range(double lo, double hi) {
  Rule r;
  r.min = lo;
  r.max = hi;
  return r;
}
inline Rule one_of(std::vector<std::string> words) {
  Rule r;
  r.choices = std::move(words);
  return r;
}
inline Rule required(Rule r = {}) {
  r.required = true;
  return r;
}

}  // namespace stratum
