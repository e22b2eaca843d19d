// `stratum qa relabel --checkpoint RUN [--annotations F]`: the relabeling queue.

#include <torch/torch.h>

#include <cmath>
#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "engine/audit/run_audit.h"
#include "engine/cli/args.h"
#include "engine/cli/checkpoint_pipeline.h"
#include "engine/cli/qa_commands.h"
#include "core/error.h"
#include "engine/prediction.h"
#include "engine/registry.h"
#include "engine/run_dir.h"
#include "engine/training_checkpoint.h"
#include "core/text.h"
#include "data/quality/agreement.h"
#include "data/quality/label_issues.h"
#include "data/quality/labeled_file.h"
#include "data/quality/relabel_queue.h"
#include "data/mixing/read_sources.h"

namespace stratum::cli {
namespace {

std::string class_name(const data::DataSpec& spec, int64_t id) {
  return static_cast<size_t>(id) < spec.class_names.size() ? spec.class_names[static_cast<size_t>(id)] : std::to_string(id);
}

// Items of the seen and validation splits the model confidently contradicts.
std::vector<data::RelabelReason> model_reasons(const CheckpointModel& loaded, const Registry& registry, int64_t& examined) {
  data::DataContext context;
  context.seed = static_cast<uint64_t>(loaded.config.run.seed);
  const data::SplitData data = data::read_sources(registry.data_sources, loaded.config.data, context);
  std::vector<data::RelabelReason> reasons;
  for (const data::TensorDataset* split : {&data.seen, &data.validation}) {
    if (split->size() == 0) continue;
    examined += split->size();
    const Predictions predictions = predict(*loaded.model, *split, loaded.config.eval.batch_size, false);
    for (const data::LabelIssue& issue : data::find_label_issues(predictions.probabilities, split->targets)) {
      const data::DataSpec& spec = loaded.state.data_spec;
      reasons.push_back({record_id(split->origins[static_cast<size_t>(issue.index)]), "model",
                         "labeled " + class_name(spec, issue.given) + " (p " + format_number(issue.given_probability) +
                             ") but the model says " + class_name(spec, issue.suggested) + " (p " +
                             format_number(issue.suggested_probability) + ", its usual confidence for that class " +
                             format_number(issue.threshold) + ")",
                         issue.suggested_probability - issue.given_probability});
    }
  }
  return reasons;
}

// Reviewers' accepted decisions, each recorded in the run's audit ledger as a label change.
int accept_decisions(const std::string& checkpoint, const std::string& path, const std::string& item_column) {
  const std::string dir = resolve_checkpoint(checkpoint);
  const TrainingState state = read_training_state(dir);
  const RunConfig config = load_config(dir + "/config.resolved.yaml");
  if (!config.audit.enabled) throw UserError(dir + "/config.resolved.yaml: audit.enabled is false; there is no ledger to record the decisions in");
  const data::CsvTable table = data::read_table_file(path);
  const size_t item = table.column(item_column, path), old_label = table.column("old_label", path),
               new_label = table.column("new_label", path), reviewer = table.column("reviewer", path),
               reason = table.column("reason", path);
  const std::vector<std::string>& classes = state.data_spec.class_names;
  // Every row is checked before any is recorded: a ledger entry cannot be taken back.
  for (const data::CsvRow& row : table.rows) {
    const std::string where = path + ":" + std::to_string(row.line) + ": ";
    for (const size_t c : {item, new_label, reviewer}) {
      if (row.fields[c].empty()) throw UserError(where + "empty " + table.header[c]);
    }
    if (std::find(classes.begin(), classes.end(), row.fields[new_label]) == classes.end()) {
      throw UserError(where + "new_label \"" + printable(row.fields[new_label], 60) + "\" is not one of the run's classes");
    }
    if (row.fields[new_label] == row.fields[old_label]) throw UserError(where + "new_label equals old_label: nothing changes");
  }
  if (table.rows.empty()) throw UserError(path + ": no decisions (the file has no data rows)");
  const std::string run_dir = audit::run_dir_of_checkpoint(dir);
  for (const data::CsvRow& row : table.rows) {
    audit::record_event(config, "", "label_changed",
                        nlohmann::json{{"run", run_dir}, {"item", row.fields[item]}, {"old_label", row.fields[old_label]},
                                       {"new_label", row.fields[new_label]}, {"reviewer", row.fields[reviewer]},
                                       {"reason", row.fields[reason]}, {"decisions", path}}
                            .dump());
  }
  std::printf("recorded %zu label changes from %s in the audit ledger\n", table.rows.size(), path.c_str());
  return kExitOk;
}

}  // namespace

int qa_relabel(const Args& args, Registry& registry) {
  std::string checkpoint, annotations, config_path, out = "relabel_queue.csv", max_text = "0", accept;
  std::vector<std::string> overrides;
  bool no_model = false;
  ArgParser parser("stratum qa relabel", "--checkpoint RUN [--annotations FILE] [--out relabel_queue.csv]",
                   "Build a relabeling queue from: items annotators disagree on and labels whose agreement is below "
                   "threshold (--annotations), items the trained model confidently contradicts (confident learning "
                   "over the run's seen and validation data), and the run's drift alerts. Each entry says why; the "
                   "queue is ordered by expected impact.");
  parser.option("--checkpoint", "PATH", "a checkpoint, or a run directory (its latest)", &checkpoint, true);
  parser.option("--annotations", "FILE", "ratings (item, annotator, label) as for qa agreement", &annotations);
  parser.option("--config", "FILE", "a run config whose qa: section sets columns and thresholds (default: the "
                                    "checkpoint's own)", &config_path);
  parser.repeated("--set", "KEY=VALUE", "override one config key (with --config)", &overrides);
  parser.flag("--no-model", "skip the model's pass over the training data (it re-reads the data files)", &no_model);
  parser.option("--max", "N", "keep the N entries with the highest impact (0: all)", &max_text);
  parser.option("--out", "FILE", "where to write the queue (default relabel_queue.csv)", &out);
  parser.option("--accept", "FILE",
                "instead: record reviewers' decisions (CSV: item, old_label, new_label, reviewer, reason) as label "
                "changes in the run's audit ledger", &accept);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (!accept.empty()) {
    return accept_decisions(checkpoint, accept, config_path.empty() ? "item" : qa_settings(config_path, overrides).item_column);
  }
  const int64_t max_entries = parse_count_flag("--max", max_text, 0);
  const CheckpointModel loaded = load_checkpoint_model(checkpoint, registry);
  const data::QaOptions qa = config_path.empty() ? loaded.config.qa : qa_settings(config_path, overrides);
  std::vector<data::RelabelReason> reasons;
  std::map<std::string, int64_t> counts;

  if (!annotations.empty()) {
    // Reviewers relabel with the classes the model knows; any other label is a typo to fix.
    const data::AnnotationTable table = data::read_annotations(
        annotations, {qa.item_column, qa.annotator_column, qa.label_column}, loaded.state.data_spec.class_names);
    const data::AgreementReport report =
        data::measure_agreement(table, {qa.threshold, qa.high_stakes_threshold, qa.high_stakes_labels});
    for (const data::Disagreement& d : report.disagreements) {
      std::vector<std::string> said;
      for (const auto& [annotator, label] : d.ratings) said.push_back(annotator + "=" + label);
      reasons.push_back({d.item, "disagreement", "annotators disagree: " + join(said, ", "), 1 - d.agreement});
      ++counts["disagreement"];
    }
    for (const data::LabelAgreement& l : report.labels) {
      if (!l.flagged) continue;
      const double gap = std::isfinite(l.kappa) ? std::clamp(l.threshold - l.kappa, 0.0, 1.0) : 1.0;
      reasons.push_back({"label:" + l.label, "label_agreement",
                         "agreement on label " + l.label + " (kappa " +
                             (std::isfinite(l.kappa) ? format_number(l.kappa) : std::string("undefined")) +
                             ") is below its threshold " + format_number(l.threshold) +
                             ": revisit its guideline and re-review its items",
                         gap});
      ++counts["label_agreement"];
    }
  }

  int64_t examined = 0;
  if (!no_model) {
    if (loaded.model->is_language_model() || loaded.state.data_spec.num_classes < 2) {
      throw UserError(loaded.dir + ": " + loaded.config.model.name +
                      " is not a classifier; use --no-model to queue annotation and drift findings only");
    }
    for (auto& r : model_reasons(loaded, registry, examined)) {
      reasons.push_back(std::move(r));
      ++counts["model"];
    }
  }

  if (const auto pipeline = restore_pipeline(loaded.dir, loaded.config, /*required=*/false)) {
    // One entry per alerting window, listing every statistic that fired there.
    std::map<int64_t, std::vector<const data::DriftEvent*>> by_record;
    for (const data::DriftEvent& e : pipeline->drift().events()) by_record[e.record].push_back(&e);
    for (const auto& [record, events] : by_record) {
      std::vector<std::string> findings;
      double impact = 0;
      for (const data::DriftEvent* e : events) {
        findings.push_back(e->statistic + " of " + e->subject + " = " + format_number(e->value) + " (threshold " +
                           format_number(e->threshold) + ")");
        if (e->value > 0) impact = std::max(impact, std::clamp((e->value - e->threshold) / e->value, 0.0, 1.0));
      }
      reasons.push_back({"drift:" + std::to_string(record), "drift",
                         "drift alert at record " + std::to_string(record) + ": " + join(findings, ", ") +
                             "; spot-check the labels of the records after it",
                         impact});
      ++counts["drift"];
    }
  }

  std::vector<data::RelabelEntry> queue = data::build_relabel_queue(reasons);
  if (max_entries > 0 && static_cast<int64_t>(queue.size()) > max_entries) queue.resize(static_cast<size_t>(max_entries));
  write_file_atomically(out, data::relabel_queue_csv(queue, qa.item_column));
  std::printf("relabeling queue for %s (step %lld): %zu entries -> %s\n", loaded.dir.c_str(),
              static_cast<long long>(loaded.state.step), queue.size(), out.c_str());
  std::printf("  annotator disagreements %lld, labels below agreement threshold %lld, model contradictions %lld "
              "(of %lld training examples), drift alerts %lld\n",
              static_cast<long long>(counts["disagreement"]), static_cast<long long>(counts["label_agreement"]),
              static_cast<long long>(counts["model"]), static_cast<long long>(examined),
              static_cast<long long>(counts["drift"]));
  for (size_t i = 0; i < queue.size() && i < 5; ++i) {
    std::printf("  %zu. %s (impact %s): %s\n", i + 1, queue[i].item.c_str(), format_number(queue[i].impact).c_str(),
                queue[i].reasons.front().c_str());
  }
  return kExitOk;
}

}  // namespace stratum::cli
