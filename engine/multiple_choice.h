#pragma once
// Multiple-choice evaluation of a language model on HellaSwag-style items (a context, several
// endings, the index of the right one): each ending scored by its log-likelihood given the
// context, summed and per token; accuracy by each, with bootstrap confidence intervals.

#include <cstdint>
#include <string>
#include <vector>

namespace stratum::data {
class Tokenizer;
}
namespace stratum::models {
class Model;
}

namespace stratum {

/// One item: a context, its endings and the right one.
struct ChoiceItem {
  std::string where;  ///< "file.jsonl:7", how errors and the per-item rows name it
  std::string context;
  std::vector<std::string> endings;
  int64_t gold = 0;
};

/// Reads JSONL items: {"ctx" or "context": text, "endings": [texts], "label" or "gold": index
/// (an integer or a string of one)}, as HellaSwag's files have them; blank lines are skipped.
/// A malformed line is a UserError naming file:line.
std::vector<ChoiceItem> read_choice_items(const std::string& path);

/// What an evaluation found.
struct ChoiceEvaluation {
  int64_t items = 0;
  double accuracy = 0, accuracy_low = 0, accuracy_high = 0;        ///< by summed log-likelihood, 95% interval
  double normalized = 0, normalized_low = 0, normalized_high = 0;  ///< by log-likelihood per token
  std::string per_item_jsonl;  ///< one JSON line per item: its scores and both picks
};

/// Scores every item (see models::score_endings; an ending gets a leading space unless the
/// context ends in whitespace or the ending starts with it, as HellaSwag's endings are written
/// without one) and bootstraps 1,000 resamples of the items from `seed` for the intervals.
ChoiceEvaluation evaluate_choices(models::Model& model, const std::vector<ChoiceItem>& items,
                                  const data::Tokenizer& tokenizer, int64_t max_length, uint64_t seed);

}  // namespace stratum
