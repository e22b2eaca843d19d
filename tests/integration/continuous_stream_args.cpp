#include "integration/continuous_stream_args.h"

namespace stratum::testing {

std::string stream_lines(int n) {
  const char* words[3][3] = {{"rain", "cloud", "storm"}, {"sun", "warm", "clear"}, {"snow", "ice", "cold"}};
  const char* labels[3] = {"wet", "dry", "frozen"};
  std::string text;
  for (int i = 0; i < n; ++i) {
    const int c = (i * 7 + i / 3) % 3;
    text += std::string(labels[c]) + "\ttoday " + words[c][i % 3] + " and " + words[c][(i + 1) % 3] + " " +
            std::to_string(i % 97) + "\n";
    if (i % 500 == 250) text += "hail\tan unknown label\n";
  }
  return text;
}

std::string text_args(const std::string& path, const TempDir& dir) {
  return "train --config configs/continuous.yaml --set data.source=text --set data.path=" + path +
         " --set data.labels=[wet,dry,frozen] --set data.text.max_length=32 --set data.unseen.by=none"
         " --set data.drift.window=0 --set data.reservoir.decay=0 --set data.continuous.min_ready=100"
         " --set data.continuous.records_per_step=8 --set model.name=text-classifier --set model.layers=1"
         " --set model.width=32 --set model.heads=2 --set model.mlp_hidden=64 --set model.dropout=0.1"
         " --set trainer.batch_size=16 --set trainer.threads=1 --set trainer.checkpoint.every=40"
         " --set eval.every=0 --set eval.window=200 --set eval.max_samples=200 --set continuous.promote.metric="
         " --set logging.every=20 --set run.output_dir=" + dir.path();
}

std::vector<nlohmann::json> records_of(const std::string& run, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const nlohmann::json& r : json_lines(read_file(run + "/metrics.jsonl"))) {
    if (r.value("kind", "") == kind) out.push_back(r);
  }
  return out;
}

}  // namespace stratum::testing
