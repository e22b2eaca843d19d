// The table of subcommands: what `stratum` dispatches to and what `stratum launch` may start.

#include "core/error.h"
#include "core/text.h"
#include "engine/cli/commands.h"

namespace stratum::cli {

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {"train", "train a model from a YAML config", train_command},
      {"eval", "evaluate a checkpoint on every split", eval_command},
      {"generate", "continue prompts with a trained language model (key/value cache)", generate_command},
      {"sweep", "grids, ablations and random search over training runs (resumable)", sweep_command},
      {"compare", "compare runs or a sweep side by side in one HTML page", compare_command},
      {"lr-find", "learning-rate range test: loss against an exponentially rising learning rate", lr_find_command},
      {"launch", "start and supervise a node's worker processes (torchrun-style)", launch_command},
      {"data", "inspect a data stream, write its manifest, learn a tokenizer, diff two runs' data", data_command},
      {"qa", "labeling quality: agreement, spot checks, weak labels, active learning, relabeling", qa_command},
      {"export", "export a checkpoint's weights as safetensors (HF / timm names)", export_command},
      {"report", "(re)write a run directory's report.html", report_command},
      {"audit", "verify the tamper-evident audit ledger; show a run's lineage", audit_command},
      {"info", "versions, devices, registered models and sources", info_command},
  };
  return table;
}

const Command& find_command(const std::string& name) {
  std::vector<std::string> names;
  for (const Command& c : commands()) {
    if (name == c.name) return c;
    names.push_back(c.name);
  }
  const std::string guess = nearest(name, names);
  throw UserError("unknown command \"" + printable(name, 60) + "\"" + (guess.empty() ? "" : " (did you mean " + guess + "?)") +
                  "; see stratum --help");
}

}  // namespace stratum::cli
