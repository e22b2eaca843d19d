#include "integration/training_run.h"

#include <gtest/gtest.h>

#include <sstream>

namespace stratum::testing {

const char* const kSmallText =
    " --set data.text.max_length=48 --set data.reservoir.max_items=1500 --set data.max_records=3000"
    " --set model.layers=2 --set model.width=32 --set model.heads=2 --set model.mlp_hidden=64"
    " --set trainer.batch_size=16 --set trainer.warmup_steps=5 --set eval.every=0 --set eval.max_samples=128"
    " --set logging.every=5 --set trainer.checkpoint.best_metric=";

RunResult train(const std::string& config, const std::string& overrides, const TempDir& dir) {
  const CommandResult r = run_stratum("train --config " + config + " --set run.output_dir=" + dir.path() +
                                      " --set trainer.threads=2 " + overrides);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  RunResult result;
  result.out = r.out;
  result.run_dir = run_directory(r);
  if (result.run_dir.empty()) return result;
  std::istringstream metrics(read_file(result.run_dir + "/metrics.jsonl"));
  for (std::string line; std::getline(metrics, line);) {
    const auto record = nlohmann::json::parse(line);
    if (record["kind"] == "train") result.train_losses.push_back(record["loss"].get<double>());
  }
  result.eval = nlohmann::json::parse(read_file(result.run_dir + "/eval.json"));
  return result;
}

}  // namespace stratum::testing
