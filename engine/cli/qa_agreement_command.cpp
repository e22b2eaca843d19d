// `stratum qa agreement FILE`: how much annotators agree, per pair, overall and per label.

#include <cstdio>

#include "engine/cli/args.h"
#include "engine/cli/qa_commands.h"
#include "core/error.h"
#include "engine/run_dir.h"
#include "core/text.h"
#include "data/quality/agreement.h"

namespace stratum::cli {

int qa_agreement(const Args& given) {
  // `stratum qa agreement FILE` is short for `--file FILE`.
  Args args = given;
  if (!args.empty() && !args[0].empty() && args[0][0] != '-') args.insert(args.begin(), "--file");
  std::string file, config_path, out, threshold, high_threshold, high_labels, item_column, annotator_column,
      label_column, labels;
  std::vector<std::string> overrides;
  bool json = false;
  ArgParser parser("stratum qa agreement", "FILE [--config RUN.yaml] [--json] [--out FILE]",
                   "Inter-annotator agreement of a CSV or JSONL file of (item, annotator, label) ratings: Cohen's "
                   "kappa per pair, Fleiss' kappa, Krippendorff's alpha, percent and per-label agreement, and the "
                   "items annotators disagree on. Labels below their threshold are flagged (exit code stays 0).");
  parser.option("--file", "FILE", "annotations (.csv with a header row, or .jsonl)", &file, true);
  parser.option("--config", "FILE", "a run config whose qa: section sets columns and thresholds", &config_path);
  parser.repeated("--set", "KEY=VALUE", "override one config key (with --config)", &overrides);
  parser.option("--threshold", "K", "kappa below which a routine label is flagged (qa.threshold)", &threshold);
  parser.option("--high-stakes-threshold", "K", "kappa below which a high-stakes label is flagged", &high_threshold);
  parser.option("--high-stakes-labels", "A,B", "labels held to the high-stakes threshold", &high_labels);
  parser.option("--item-column", "NAME", "the column naming the item (qa.item_column, default item)", &item_column);
  parser.option("--annotator-column", "NAME", "the annotator's column (default annotator)", &annotator_column);
  parser.option("--label-column", "NAME", "the label's column (default label)", &label_column);
  parser.option("--labels", "A,B,...", "the allowed labels; any other is an error naming its row", &labels);
  parser.flag("--json", "print the report as JSON instead of a table", &json);
  parser.option("--out", "FILE", "also write the JSON report here", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  const data::QaOptions qa = qa_settings(config_path, overrides);
  data::AgreementThresholds thresholds{qa.threshold, qa.high_stakes_threshold, qa.high_stakes_labels};
  if (!threshold.empty()) thresholds.routine = parse_number_flag("--threshold", threshold, -1, 1);
  if (!high_threshold.empty()) thresholds.high_stakes = parse_number_flag("--high-stakes-threshold", high_threshold, -1, 1);
  if (!high_labels.empty()) thresholds.high_stakes_labels = split(high_labels, ',');

  const data::AnnotationTable table = data::read_annotations(
      file, {item_column.empty() ? qa.item_column : item_column,
             annotator_column.empty() ? qa.annotator_column : annotator_column,
             label_column.empty() ? qa.label_column : label_column},
      labels.empty() ? std::vector<std::string>{} : split(labels, ','));
  const data::AgreementReport report = data::measure_agreement(table, thresholds);
  const std::string report_json = data::agreement_json(report);
  std::fputs(json ? report_json.c_str() : data::agreement_text(report).c_str(), stdout);
  if (!out.empty()) write_file_atomically(out, report_json);
  return kExitOk;
}

}  // namespace stratum::cli
