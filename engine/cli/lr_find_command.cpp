// `stratum lr-find --config F [--steps N] [--min-lr A] [--max-lr B]`: the learning-rate range
// test, run by the trainer itself (trainer.schedule: range_test), then read back and plotted.

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/atomic_file.h"
#include "core/error.h"
#include "core/read_file.h"
#include "core/text.h"
#include "distributed/launcher.h"
#include "engine/cli/args.h"
#include "engine/cli/commands.h"
#include "engine/experiments/lr_range_test.h"

namespace fs = std::filesystem;

namespace stratum::cli {
namespace {

double parse_rate(const std::string& flag, const std::string& text) {
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size() && std::isfinite(v) && v > 0 && v < 1e6) return v;
  } catch (const std::exception&) {
  }
  throw UserError(flag + ": \"" + printable(text, 40) + "\" is not a positive learning rate");
}

}  // namespace

int lr_find_command(const Args& args, Registry& registry) {
  std::string config_path, out = "lr-find", steps_text = "200", min_text = "1e-7", max_text = "1";
  std::vector<std::string> overrides, plugins;
  ArgParser parser("stratum lr-find", "--config FILE [--set KEY=VALUE]... [--steps N] [--min-lr A] [--max-lr B] [--out DIR]",
                   "Learning-rate range test: train N steps with the rate rising exponentially from A to B, stop when "
                   "the loss diverges, and suggest the rate where the loss falls fastest.");
  parser.option("--config", "FILE", "run configuration (YAML)", &config_path, true);
  parser.repeated("--set", "KEY=VALUE", "override one config key", &overrides);
  parser.repeated("--plugin", "LIB.so", "load a plugin", &plugins);
  parser.option("--steps", "N", "steps of the test", &steps_text);
  parser.option("--min-lr", "A", "the first step's learning rate", &min_text);
  parser.option("--max-lr", "B", "the last step's learning rate", &max_text);
  parser.option("--out", "DIR", "where the run directory, lr_find.svg and lr_find.json go", &out);
  if (!parser.parse(args)) {
    std::fputs(parser.help().c_str(), stdout);
    return kExitOk;
  }
  const int64_t steps = parse_count_flag("--steps", steps_text, 10, 1000000);
  const double min_lr = parse_rate("--min-lr", min_text), max_lr = parse_rate("--max-lr", max_text);
  if (!(min_lr < max_lr)) throw UserError("--min-lr must be below --max-lr");

  // The test is a training run with the range schedule, logged every step, evaluated briefly.
  std::vector<std::string> train = {"--config", config_path};
  for (const std::string& o : overrides) train.insert(train.end(), {"--set", o});
  const std::vector<std::string> test = {"trainer.schedule=range_test",
                                         "trainer.lr=" + format_number(max_lr),
                                         "trainer.min_lr_ratio=" + format_number(min_lr / max_lr),
                                         "trainer.warmup_steps=0",
                                         "trainer.steps=" + std::to_string(steps),
                                         "trainer.early_stopping.metric=\"\"",
                                         "trainer.ema.decay=0",
                                         "trainer.checkpoint.every=0",
                                         "trainer.checkpoint.best_metric=\"\"",
                                         "logging.every=1",
                                         "logging.tensorboard=false",
                                         "eval.every=0",
                                         "eval.max_samples=256",
                                         "run.output_dir=" + out};
  for (const std::string& o : test) train.insert(train.end(), {"--set", o});
  for (const std::string& p : plugins) train.insert(train.end(), {"--plugin", p});
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) throw UserError("--out " + out + ": cannot create: " + ec.message());
  const std::string run_dir_file = out + "/.run_dir";
  ::setenv(distributed::kRunDirFileVariable, run_dir_file.c_str(), 1);
  const int code = train_command(train, registry);
  ::unsetenv(distributed::kRunDirFileVariable);
  if (code != kExitOk) return code;
  std::string run_dir = read_file(run_dir_file).value_or("");
  while (!run_dir.empty() && (run_dir.back() == '\n' || run_dir.back() == '\r')) run_dir.pop_back();
  fs::remove(run_dir_file, ec);
  if (run_dir.empty()) throw UserError("lr-find: the training run did not say where it wrote its run directory");

  const experiments::RangeTestResult result =
      experiments::analyse_range_test(experiments::read_range_test(run_dir + "/metrics.jsonl"));
  write_file_atomically(out + "/lr_find.svg", experiments::range_test_svg(result));
  nlohmann::ordered_json json = {{"suggested_lr", result.suggested_lr},
                                 {"steepest_lr", result.steepest_lr},
                                 {"min_loss_lr", result.min_loss_lr},
                                 {"run_dir", run_dir},
                                 {"points", nlohmann::ordered_json::array()}};
  for (size_t i = 0; i < result.points.size(); ++i) {
    const auto& p = result.points[i];
    nlohmann::ordered_json point = {{"lr", p.lr}, {"loss", std::isfinite(p.loss) ? nlohmann::ordered_json(p.loss) : nullptr}};
    if (i < result.smoothed.size()) point["smoothed"] = result.smoothed[i].loss;
    json["points"].push_back(point);
  }
  write_file_atomically(out + "/lr_find.json", json.dump(2) + "\n");
  std::printf("\nlr-find: %zu steps from %s to %s\n  steepest descent at lr %s (suggested)\n  lowest loss at lr %s "
              "(a common alternative: a tenth of it, %s)\n  curve: %s/lr_find.svg, figures: %s/lr_find.json\n",
              result.points.size(), format_number(result.points.front().lr).c_str(),
              format_number(result.points.back().lr).c_str(), format_number(result.suggested_lr).c_str(),
              format_number(result.min_loss_lr).c_str(), format_number(result.min_loss_lr / 10).c_str(), out.c_str(),
              out.c_str());
  return kExitOk;
}

}  // namespace stratum::cli
