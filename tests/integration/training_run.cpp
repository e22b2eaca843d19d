#include "integration/training_run.h"

#include <gtest/gtest.h>

#include <sstream>

namespace stratum::testing {

const char* const kSmallText =
    " --set data.text.max_length=48 --set data.reservoir.max_items=1500 --set data.max_records=3000"
    " --set model.layers=2 --set model.width=32 --set model.heads=2 --set model.mlp_hidden=64"
    " --set trainer.batch_size=16 --set trainer.warmup_steps=5 --set eval.every=0 --set eval.max_samples=128"
    " --set logging.every=5 --set trainer.checkpoint.best_metric=";

const char* const kReferenceGptShape =
    " --config configs/gpt-fortunes.yaml --set model.layers=2 --set model.width=64 --set model.heads=4"
    " --set model.mlp_hidden=256 --set model.context=128 --set trainer.threads=2";

std::vector<nlohmann::json> json_lines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  }
  return out;
}

std::map<int64_t, double> logged_losses(const std::string& run_dir) {
  std::map<int64_t, double> out;
  std::istringstream lines(read_file(run_dir + "/metrics.jsonl"));
  for (std::string line; std::getline(lines, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "train") out[record["step"].get<int64_t>()] = record["loss"].get<double>();
  }
  return out;
}

RunResult train(const std::string& config, const std::string& overrides, const TempDir& dir) {
  const CommandResult r = run_stratum("train --config " + config + " --set run.output_dir=" + dir.path() +
                                      " --set trainer.threads=2 " + overrides);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  RunResult result;
  result.out = r.out;
  result.run_dir = run_directory(r);
  if (result.run_dir.empty()) return result;
  for (const auto& [step, loss] : logged_losses(result.run_dir)) result.train_losses.push_back(loss);
  result.eval = nlohmann::json::parse(read_file(result.run_dir + "/eval.json"));
  return result;
}

}  // namespace stratum::testing
