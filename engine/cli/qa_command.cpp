// `stratum qa SUBCOMMAND ...`: dispatch to the labeling-quality tools.

#include <cstdio>

#include "engine/cli/qa_commands.h"
#include "core/error.h"
#include "core/text.h"

namespace stratum::cli {

data::QaOptions qa_settings(const std::string& config_path, const std::vector<std::string>& overrides) {
  if (config_path.empty()) {
    if (!overrides.empty()) throw UserError("--set: needs --config (the run config whose qa: section it changes)");
    return data::QaOptions{};
  }
  return load_config(config_path, overrides).qa;
}

int qa_command(const Args& args, Registry& registry) {
  static const char* usage =
      "usage: stratum qa <tool> [options]   (stratum qa <tool> --help for details)\n\n"
      "tools:\n"
      "  agreement   inter-annotator agreement of an annotation file (kappas, alpha, disagreements)\n"
      "  spotcheck   a stratified sample for two independent reviewers, as CSV\n"
      "  weak-labels combine labeling functions' votes into labels with confidence\n"
      "  select      pick the unlabeled examples a checkpoint is least sure of (active learning)\n"
      "  relabel     a relabeling queue: disagreements, confident model contradictions, weak labels, drift\n";
  if (args.empty()) {
    throw UserError("stratum qa: no tool given (agreement, spotcheck, weak-labels, select or relabel); see stratum qa --help");
  }
  if (args[0] == "--help" || args[0] == "-h") {
    std::fputs(usage, stdout);
    return kExitOk;
  }
  const Args rest(args.begin() + 1, args.end());
  if (args[0] == "agreement") return qa_agreement(rest);
  if (args[0] == "spotcheck") return qa_spotcheck(rest);
  if (args[0] == "weak-labels") return qa_weak_labels(rest);
  if (args[0] == "select") return qa_select(rest, registry);
  if (args[0] == "relabel") return qa_relabel(rest, registry);
  const std::string guess = nearest(args[0], {"agreement", "spotcheck", "weak-labels", "select", "relabel"});
  throw UserError("stratum qa: unknown tool \"" + printable(args[0], 60) + "\"" + (guess.empty() ? "" : " (did you mean " + guess + "?)") +
                  "; see stratum qa --help");
}

}  // namespace stratum::cli
