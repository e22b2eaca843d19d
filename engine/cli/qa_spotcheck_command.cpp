// `stratum qa spotcheck`: a stratified sample of labeled items (from a file or from a run's
// reservoirs) for two independent, blind reviewers.

#include <cstdio>
#include <fstream>
#include <map>

#include "engine/cli/args.h"
#include "engine/cli/checkpoint_pipeline.h"
#include "engine/cli/qa_commands.h"
#include "core/error.h"
#include "engine/run_dir.h"
#include "core/text.h"
#include "engine/training_checkpoint.h"
#include "data/quality/labeled_file.h"
#include "data/quality/spotcheck.h"
#include "data/redaction/redactor.h"

namespace stratum::cli {
namespace {

// What reviewers see for each item: its id plus the carried columns (never the label).
struct SpotcheckSource {
  std::vector<data::SpotcheckItem> items;
  std::vector<std::string> shown_columns;
  std::vector<std::vector<std::string>> shown;  ///< per item
};

SpotcheckSource from_file(const std::string& path, const data::QaOptions& qa, const std::string& time_column) {
  const data::CsvTable table = data::read_table_file(path);
  const size_t item = table.column(qa.item_column, path), label = table.column(qa.label_column, path);
  const size_t time = time_column.empty() ? table.header.size() : table.column(time_column, path);
  SpotcheckSource source;
  for (size_t c = 0; c < table.header.size(); ++c) {
    if (c != item && c != label && c != time) source.shown_columns.push_back(table.header[c]);
  }
  std::map<std::string, int64_t> seen;
  for (const data::CsvRow& row : table.rows) {
    const std::string where = path + ":" + std::to_string(row.line) + ": ";
    data::SpotcheckItem it{row.fields[item], row.fields[label], static_cast<double>(source.items.size())};
    if (it.id.empty()) throw UserError(where + "empty " + qa.item_column);
    if (it.label.empty()) throw UserError(where + "empty " + qa.label_column);
    if (!seen.emplace(it.id, row.line).second) {
      throw UserError(where + "item \"" + it.id + "\" again (first at row " + std::to_string(seen[it.id]) + ")");
    }
    if (time < table.header.size()) {
      char* end = nullptr;
      it.time = std::strtod(row.fields[time].c_str(), &end);
      if (row.fields[time].empty() || *end != '\0') {
        throw UserError(where + time_column + ": expected a number, got \"" + row.fields[time] + "\"");
      }
    }
    std::vector<std::string> shown;
    for (size_t c = 0; c < table.header.size(); ++c) {
      if (c != item && c != label && c != time) shown.push_back(row.fields[c]);
    }
    source.items.push_back(std::move(it));
    source.shown.push_back(std::move(shown));
  }
  if (source.items.empty()) throw UserError(path + ": no items (the file has no data rows)");
  return source;
}

// The records a run's reservoirs held at a checkpoint (its data_state.bin).
SpotcheckSource from_checkpoint(const std::string& checkpoint) {
  const std::string dir = resolve_checkpoint(checkpoint);
  const TrainingState state = read_training_state(dir);
  const RunConfig config = load_config(dir + "/config.resolved.yaml");
  const auto splitter = restore_pipeline(dir, config);
  SpotcheckSource source;
  source.shown_columns = {"source", "offset", "text"};
  const bool text = state.data_spec.kind == data::InputKind::tokens;
  for (int32_t label : splitter->reservoir().labels()) {
    const std::string name = static_cast<size_t>(label) < state.data_spec.class_names.size()
                                 ? state.data_spec.class_names[static_cast<size_t>(label)]
                                 : std::to_string(label);
    for (const data::Record& r : splitter->reservoir().reservoir(label).items()) {
      source.items.push_back({record_id(r.origin), name, r.time});
      source.shown.push_back({std::to_string(r.origin.source), std::to_string(r.origin.offset), text ? r.payload : ""});
    }
  }
  if (source.items.empty()) throw UserError(dir + "/data_state.bin: the reservoirs are empty");
  return source;
}

}  // namespace

int qa_spotcheck(const Args& args) {
  std::string file, checkpoint, config_path, out = "spotcheck.csv", fraction, buckets, time_column, seed = "1",
                                             reviewers;
  std::vector<std::string> overrides;
  ArgParser parser("stratum qa spotcheck", "(--file LABELED.csv | --checkpoint RUN) [--out spotcheck.csv] ...",
                   "Draw a stratified sample (per label and time bucket; qa.spotcheck_fraction of each, at least one) "
                   "for two independent reviewers. Writes OUT, one row per item and reviewer with an empty label "
                   "column to fill (the label itself is not shown), and OUT's .key.csv with the labels and strata.");
  parser.option("--file", "FILE", "labeled items (.csv with a header, or .jsonl): qa.item_column, qa.label_column",
                &file);
  parser.option("--checkpoint", "PATH", "or: a run's checkpoint, sampling what its reservoirs kept", &checkpoint);
  parser.option("--config", "FILE", "a run config whose qa: section sets columns, fraction, buckets, reviewers "
                                    "(default with --checkpoint: the run's own)",
                &config_path);
  parser.repeated("--set", "KEY=VALUE", "override one config key (with --config)", &overrides);
  parser.option("--fraction", "F", "share of each stratum (qa.spotcheck_fraction, default 0.05)", &fraction);
  parser.option("--time-buckets", "N", "equal-width time buckets (qa.time_buckets, default 4)", &buckets);
  parser.option("--time-column", "NAME", "with --file: numeric time column (default: row order)", &time_column);
  parser.option("--reviewers", "A,B", "the two reviewers (qa.reviewers)", &reviewers);
  parser.option("--seed", "N", "sampling seed (default 1)", &seed);
  parser.option("--out", "FILE", "the annotation sheet to write (default spotcheck.csv)", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  if (file.empty() == checkpoint.empty()) throw UserError("stratum qa spotcheck: give exactly one of --file and --checkpoint");
  // With a checkpoint and no --config, the run's own qa: settings apply.
  const data::QaOptions qa = !checkpoint.empty() && config_path.empty()
                           ? load_config(resolve_checkpoint(checkpoint) + "/config.resolved.yaml").qa
                           : qa_settings(config_path, overrides);
  data::SpotcheckOptions options{qa.spotcheck_fraction, qa.time_buckets, 1};
  if (!fraction.empty()) options.fraction = parse_number_flag("--fraction", fraction, 1e-6, 1);
  if (!buckets.empty()) options.time_buckets = parse_count_flag("--time-buckets", buckets, 1, 65536);
  options.seed = static_cast<uint64_t>(parse_count_flag("--seed", seed, 0));
  const std::vector<std::string> people = reviewers.empty() ? qa.reviewers : split(reviewers, ',');
  if (people.size() != 2 || people[0].empty() || people[1].empty() || people[0] == people[1]) {
    throw UserError(std::string(reviewers.empty() ? "qa.reviewers" : "--reviewers") +
                    ": expected two different reviewer names, got \"" + join(people, ",") + "\"");
  }

  SpotcheckSource source = file.empty() ? from_checkpoint(checkpoint) : from_file(file, qa, time_column);
  // A run's reservoirs hold redacted records already; a labeled file is redacted here by the
  // config's data.redact before reviewers see it.
  if (!file.empty() && !config_path.empty()) {
    data::Redactor redactor(load_config(config_path, overrides).data.redact);
    for (auto& shown : source.shown) {
      for (std::string& field : shown) redactor.redact_text(field);
    }
  }
  const data::SpotcheckSample sample = data::spotcheck_sample(source.items, options);

  std::vector<std::string> header = {qa.item_column, qa.annotator_column};
  header.insert(header.end(), source.shown_columns.begin(), source.shown_columns.end());
  header.push_back(qa.label_column);
  std::string sheet = data::csv_line(header);
  std::string key = data::csv_line({qa.item_column, qa.label_column, "time_bucket"});
  for (size_t index : sample.chosen) {
    for (const std::string& reviewer : people) {
      std::vector<std::string> row = {source.items[index].id, reviewer};
      row.insert(row.end(), source.shown[index].begin(), source.shown[index].end());
      row.push_back("");
      sheet += data::csv_line(row);
    }
    key += data::csv_line({source.items[index].id, source.items[index].label, std::to_string(sample.bucket_of[index])});
  }
  const std::string key_path = (out.size() > 4 && out.substr(out.size() - 4) == ".csv" ? out.substr(0, out.size() - 4) : out) + ".key.csv";
  write_file_atomically(out, sheet);
  write_file_atomically(key_path, key);

  std::printf("spot check: %zu of %zu items from %zu strata (label x time bucket), %s of each (at least one), seed %llu\n",
              sample.chosen.size(), source.items.size(), sample.strata.size(), format_number(options.fraction).c_str(),
              static_cast<unsigned long long>(options.seed));
  for (const data::SpotcheckStratum& s : sample.strata) {
    std::printf("  %-20s bucket %lld: %lld of %lld\n", s.label.c_str(), static_cast<long long>(s.bucket),
                static_cast<long long>(s.sampled), static_cast<long long>(s.size));
  }
  std::printf("annotation sheet for %s and %s: %s (then: stratum qa agreement %s)\nlabels and strata: %s\n",
              people[0].c_str(), people[1].c_str(), out.c_str(), out.c_str(), key_path.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
