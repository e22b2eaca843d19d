#pragma once
// Weak supervision: several labeling functions vote on each item (or abstain); their votes
// combine into one training label with a confidence, by majority vote or by a weighted vote
// whose weights come from each function's estimated accuracy (its agreement with the other
// functions' consensus).

#include <cstdint>
#include <string>
#include <vector>

#include "data/data_options.h"

namespace stratum::data {

/// Votes by item and labeling function.
struct VoteTable {
  std::vector<std::string> items;
  std::vector<std::string> functions;
  std::vector<std::string> labels;            ///< sorted
  std::vector<std::vector<int32_t>> votes;    ///< [item][function]: label index, or -1 for an abstention
};

/// Reads a CSV whose `item_column` names the item and every other column is one labeling
/// function; an empty cell, "abstain" or "-1" is an abstention. Problems (a missing item
/// column, no function columns, an empty or repeated item id, no rows) are UserErrors naming the
/// file and row.
VoteTable read_votes(const std::string& path, const std::string& item_column);

/// One item's combined label.
struct WeakLabel {
  int32_t label = -1;     ///< -1: no label (every function abstained, or a tie)
  double confidence = 0;  ///< share of votes (majority) or posterior probability (weighted)
  int64_t votes = 0;      ///< non-abstaining votes
};

/// Every item's label, and what the combination learned about the functions.
struct WeakLabelResult {
  std::vector<WeakLabel> labels;          ///< per item
  std::vector<double> accuracy;           ///< per function: estimated accuracy (weighted) or agreement with the majority
  std::vector<double> weight;             ///< per function: log-odds weight (1 for majority)
  std::vector<double> coverage;           ///< per function: share of items it voted on
  int64_t abstained = 0;                  ///< items no function voted on
  int64_t ties = 0;                       ///< items left without a label by a tie
};

/// `method` is "majority" or "weighted". The weighted vote starts from the majority vote and
/// re-estimates each function's accuracy against the others' weighted consensus (leaving the
/// function itself out) for `iterations` rounds; a function's weight is
/// log(accuracy (K - 1) / (1 - accuracy)) for K labels, the optimal weight for independent
/// voters, and the confidence is the normalised exp(sum of weights) of the winning label.
WeakLabelResult combine_votes(const VoteTable& votes, VoteMethod method, int iterations = 10);

}  // namespace stratum::data
