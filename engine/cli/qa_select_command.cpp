// `stratum qa select --checkpoint RUN --pool FILE`: the unlabeled examples a trained model is
// least sure of, optionally spread out over its embedding space, to label next.

#include <torch/torch.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "engine/cli/args.h"
#include "engine/cli/qa_commands.h"
#include "core/error.h"
#include "engine/prediction.h"
#include "engine/run_dir.h"
#include "core/text.h"
#include "data/csv.h"
#include "data/quality/labeled_file.h"
#include "data/quality/selection.h"
#include "data/sources/idx_file.h"
#include "data/splits/assemble.h"
#include "data/tokenizer/tokenizer.h"

namespace stratum::cli {
namespace {

// An unlabeled pool: item ids, their records, and a preview column for the output.
struct Pool {
  std::vector<std::string> ids;
  std::vector<data::Record> records;
  std::vector<std::string> preview;  ///< the text, for text pools
};

Pool read_text_pool(const std::string& path, const RunConfig& config, const std::string& item_column) {
  Pool pool;
  if (data::is_jsonl_path(path)) {
    const data::CsvTable table = data::read_table_file(path);
    const size_t text = table.column(config.data.text.text_field, path);
    // Items are named by the item column, else an "id" field, else their line number.
    size_t id = table.header.size();
    for (const std::string& name : {item_column, std::string("id")}) {
      for (size_t c = 0; c < table.header.size() && id == table.header.size(); ++c) {
        if (table.header[c] == name) id = c;
      }
    }
    for (const data::CsvRow& row : table.rows) {
      pool.ids.push_back(id < table.header.size() ? row.fields[id] : std::to_string(row.line));
      data::Record r;
      r.payload = row.fields[text];
      r.origin.offset = static_cast<uint64_t>(row.line);
      pool.records.push_back(std::move(r));
    }
  } else {
    std::ifstream in(path);
    if (!in) throw UserError(path + ": cannot open");
    std::string line;
    for (int64_t number = 1; std::getline(in, line); ++number) {
      if (line.empty()) continue;
      pool.ids.push_back(std::to_string(number));
      data::Record r;
      r.payload = line;
      r.origin.offset = static_cast<uint64_t>(number);
      pool.records.push_back(std::move(r));
    }
  }
  for (const data::Record& r : pool.records) pool.preview.push_back(r.payload.substr(0, 200));
  return pool;
}

Pool read_image_pool(const std::string& path, const data::DataSpec& spec) {
  const data::IdxArray images = data::read_idx(path);
  int64_t per_image = 1;
  for (int64_t d : spec.input_shape) per_image *= d;
  int64_t row_bytes = 1;
  for (size_t d = 1; d < images.dims.size(); ++d) row_bytes *= images.dims[d];
  if (images.dims.empty() || row_bytes != per_image) {
    throw UserError(path + ": images of " + std::to_string(row_bytes) + " bytes; the model was trained on " +
                    std::to_string(per_image) + "-byte images");
  }
  Pool pool;
  for (int64_t i = 0; i < images.dims[0]; ++i) {
    pool.ids.push_back(std::to_string(i));
    data::Record r;
    r.payload.assign(reinterpret_cast<const char*>(images.values.data()) + i * per_image, static_cast<size_t>(per_image));
    r.origin.offset = static_cast<uint64_t>(i);
    pool.records.push_back(std::move(r));
    pool.preview.emplace_back();
  }
  return pool;
}

}  // namespace

int qa_select(const Args& args, Registry& registry) {
  std::string checkpoint, pool_path, by = "entropy", k_text = "100", out = "selected.csv", config_path, item_column;
  std::vector<std::string> overrides;
  bool diversity = false;
  ArgParser parser("stratum qa select", "--checkpoint RUN --pool FILE [--by entropy] [--k 100] [--diversity] [--out FILE]",
                   "Score an unlabeled pool with a trained classifier and write the K examples most worth labeling.");
  parser.option("--checkpoint", "PATH", "a checkpoint, or a run directory (its latest)", &checkpoint, true);
  parser.option("--pool", "FILE", "unlabeled inputs like the training data: text lines or JSONL (text models), an IDX "
                                  "image file (image models)", &pool_path, true);
  parser.option("--by", "MEASURE", "least_confidence, margin or entropy (default)", &by);
  parser.option("--k", "N", "how many to select (default 100)", &k_text);
  parser.flag("--diversity", "k-center greedy on the model's embeddings among the 10k most uncertain", &diversity);
  parser.option("--item-column", "NAME", "JSONL pools: the field naming each item (qa.item_column, then id)",
                &item_column);
  parser.option("--config", "FILE", "a run config whose qa: section names the item column of JSONL pools", &config_path);
  parser.repeated("--set", "KEY=VALUE", "override one config key (with --config)", &overrides);
  parser.option("--out", "FILE", "where to write rank,item,score,predicted,confidence (default selected.csv)", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  const data::Uncertainty measure = data::parse_uncertainty(by, "--by");
  const int64_t k = parse_count_flag("--k", k_text, 1, int64_t{1} << 31);
  const data::QaOptions qa = qa_settings(config_path, overrides);
  const CheckpointModel loaded = load_checkpoint_model(checkpoint, registry);
  const data::DataSpec& spec = loaded.state.data_spec;
  if (loaded.model->is_language_model() || spec.num_classes < 2) {
    throw UserError(loaded.dir + ": " + loaded.config.model.name + " is not a classifier; qa select needs class probabilities");
  }
  Pool pool;
  std::shared_ptr<const data::Tokenizer> tokenizer;
  if (spec.kind == data::InputKind::tokens) {
    pool = read_text_pool(pool_path, loaded.config, item_column.empty() ? qa.item_column : item_column);
    if (!loaded.config.data.tokenizer.path.empty()) {
      tokenizer = data::load_tokenizer(loaded.config.data.tokenizer.path);
    }
  } else if (spec.kind == data::InputKind::images) {
    if (spec.input_mean.empty()) {
      throw UserError(loaded.dir + "/state.json: no input statistics to standardize new images with (a checkpoint "
                                   "from an older Stratum); train it again with this version");
    }
    pool = read_image_pool(pool_path, spec);
  } else {
    throw UserError("--pool: pools of feature vectors are not supported yet; export the model's inputs as JSONL text "
                    "or IDX images");
  }
  if (pool.records.empty()) throw UserError(pool_path + ": the pool is empty");
  std::vector<const data::Record*> records;
  for (const data::Record& r : pool.records) records.push_back(&r);
  const data::TensorDataset inputs = data::collate_records(records, spec, tokenizer.get());
  const Predictions predictions = predict(*loaded.model, inputs, loaded.config.eval.batch_size, diversity);
  const torch::Tensor scores = data::uncertainty_scores(predictions.probabilities, measure);
  const std::vector<int64_t> chosen = data::select_for_labeling(scores, predictions.embeddings, k);
  const auto [confidence, predicted] = predictions.probabilities.max(1);

  std::string csv = data::csv_line({"rank", item_column.empty() ? qa.item_column : item_column, by, "predicted", "confidence", "text"});
  for (size_t rank = 0; rank < chosen.size(); ++rank) {
    const int64_t i = chosen[rank];
    const int64_t label = predicted[i].item<int64_t>();
    csv += data::csv_line({std::to_string(rank + 1), pool.ids[static_cast<size_t>(i)], format_number(scores[i].item<double>()),
                           static_cast<size_t>(label) < spec.class_names.size() ? spec.class_names[static_cast<size_t>(label)]
                                                                               : std::to_string(label),
                           format_number(confidence[i].item<double>()), pool.preview[static_cast<size_t>(i)]});
  }
  write_file_atomically(out, csv);
  std::printf("scored %zu pool examples with %s (step %lld) by %s%s; selected %zu -> %s\n", pool.records.size(),
              loaded.dir.c_str(), static_cast<long long>(loaded.state.step), by.c_str(),
              diversity ? " with k-center diversity" : "", chosen.size(), out.c_str());
  std::printf("mean %s: selected %.4f, whole pool %.4f\n", by.c_str(),
              scores.index_select(0, torch::tensor(chosen)).mean().item<double>(), scores.mean().item<double>());
  return kExitOk;
}

}  // namespace stratum::cli
