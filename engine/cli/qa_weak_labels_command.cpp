// `stratum qa weak-labels --votes F`: combine labeling functions' votes into labels.

#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/qa_commands.h"
#include "core/error.h"
#include "engine/run_dir.h"
#include "core/text.h"
#include "data/csv.h"
#include "data/quality/weak_labels.h"

namespace stratum::cli {

int qa_weak_labels(const Args& args) {
  std::string votes_path, item_column = "id", method = "weighted", out = "weak_labels.csv";
  ArgParser parser("stratum qa weak-labels", "--votes VOTES.csv [--method weighted|majority] [--out FILE]",
                   "Combine labeling functions' votes (one column each; empty or \"abstain\" = no vote) into one "
                   "label per item with a confidence. To train on them directly, use data.source: weak_labels.");
  parser.option("--votes", "FILE", "CSV: the item column and one column per labeling function", &votes_path, true);
  parser.option("--item-column", "NAME", "the item column (default id)", &item_column);
  parser.option("--method", "NAME", "majority, or weighted by estimated accuracy (default)", &method);
  parser.option("--out", "FILE", "where to write item,label,confidence,votes (default weak_labels.csv)", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  data::VoteMethod vote_method = data::VoteMethod::weighted;
  if (!parse_choice(method, vote_method)) {
    throw UserError("--method: expected majority or weighted, got \"" + method + "\"");
  }
  const data::VoteTable votes = data::read_votes(votes_path, item_column);
  const data::WeakLabelResult result = data::combine_votes(votes, vote_method);
  std::string csv = data::csv_line({item_column, "label", "confidence", "votes"});
  for (size_t i = 0; i < votes.items.size(); ++i) {
    const data::WeakLabel& l = result.labels[i];
    csv += data::csv_line({votes.items[i], l.label < 0 ? "" : votes.labels[static_cast<size_t>(l.label)],
                           l.label < 0 ? "" : format_number(l.confidence), std::to_string(l.votes)});
  }
  write_file_atomically(out, csv);
  std::printf("%zu items, %zu labeling functions, %zu labels; method %s\n", votes.items.size(), votes.functions.size(),
              votes.labels.size(), method.c_str());
  for (size_t f = 0; f < votes.functions.size(); ++f) {
    std::printf("  %-20s coverage %-7s estimated accuracy %-7s weight %s\n", votes.functions[f].c_str(),
                format_number(result.coverage[f]).c_str(), format_number(result.accuracy[f]).c_str(),
                format_number(result.weight[f]).c_str());
  }
  std::printf("labeled %lld; left without a label: %lld (every function abstained), %lld (tied) -> %s\n",
              static_cast<long long>(static_cast<int64_t>(votes.items.size()) - result.abstained - result.ties),
              static_cast<long long>(result.abstained), static_cast<long long>(result.ties), out.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
