#pragma once
// How a folder declares its options: each options struct lists its fields once, in a static
// `describe(visitor)`, with key, help text and rule; the engine's config layer (engine/config.cpp)
// generates parsing, `--set`, `--help`, the resolved dump and equality from that one list.
// Choices are enums: each declares its words next to itself with `choices(E)`, and the config
// layer is the only code that turns words into values.

#include <limits>
#include <string>
#include <utility>
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

/// The YAML words of a choice enum, in order. A choice enum E is declared with an overload
/// `const ChoiceTable<E>& choices(E)` next to it (found by argument-dependent lookup).
template <class E>
using ChoiceTable = std::vector<std::pair<E, const char*>>;

/// The word `value` is written as in YAML, logs and manifests.
template <class E>
const char* choice_name(E value) {
  for (const auto& [e, word] : choices(E{})) {
    if (e == value) return word;
  }
  return "?";
}

/// Every word of E, in declaration order (for rules, messages and `--help`).
template <class E>
std::vector<std::string> choice_words() {
  std::vector<std::string> out;
  for (const auto& entry : choices(E{})) out.push_back(entry.second);
  return out;
}

/// The value `word` names; false when it names none.
template <class E>
bool parse_choice(const std::string& word, E& out) {
  for (const auto& [e, name] : choices(E{})) {
    if (word == name) return out = e, true;
  }
  return false;
}

}  // namespace stratum
