// Records per second from raw files to collated training batches, with Google Benchmark: the
// source reads and decodes the files (IDX images; fortunes text, byte-level or through the BPE
// tokenizer), the stratified reservoirs sample the stream (or, "passthrough", are sized to
// keep every record), the splits are collated into tensors, and the Loader serves one epoch
// of shuffled batches of the seen split. scripts/bench.sh sets STRATUM_BENCH_TOKENIZER (a
// tokenizer learned by `stratum data tokenizer`) and compares the rate with the trainer's.
// ImageFolderJpeg times a folder of JPEG photos (STRATUM_BENCH_IMAGES, written by bench.py)
// made into 224 x 224 training examples as torchvision's ImageFolder + DataLoader makes them:
// the first epoch (read, decode, resize to 256 once, then random resized crops and flips) and a
// later one (crops and flips of the kept pixels), with `workers` threads.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>

#include "engine/config.h"
#include "engine/registry.h"
#include "data/builtin_sources.h"
#include "data/loader.h"

namespace stratum {
namespace {

void run_pipeline(benchmark::State& state, const std::string& config, std::vector<std::string> overrides) {
  const bool passthrough = state.range(0) != 0;
  if (passthrough) {
    overrides.insert(overrides.end(), {"data.reservoir.max_items=100000000", "data.reservoir.max_per_label=100000000",
                                       "data.reservoir.label_share_cap=1.0", "data.reservoir.max_bytes=100000000000"});
  }
  const RunConfig cfg = load_config(std::string(STRATUM_SOURCE_DIR) + "/configs/" + config, overrides);
  Registry registry;
  data::register_builtin_sources(registry.data_sources);
  int64_t records = 0, batches = 0;
  for (auto _ : state) {
    data::DataContext context;
    context.seed = 1;
    const data::SplitData data = registry.data_sources.find(cfg.data.source)->build(cfg.data, context);
    data::Loader loader(data.seen, {cfg.trainer.batch_size, 1, 4, 0});
    const int64_t per_epoch = (data.seen.size() + cfg.trainer.batch_size - 1) / cfg.trainer.batch_size;
    for (int64_t i = 0; i < per_epoch; ++i) benchmark::DoNotOptimize(loader.next());
    records += data.records_read;
    batches += per_epoch;
  }
  state.counters["records_per_second"] = benchmark::Counter(static_cast<double>(records), benchmark::Counter::kIsRate);
  state.counters["batches"] = static_cast<double>(batches) / static_cast<double>(state.iterations());
  state.SetLabel(passthrough ? "passthrough" : "reservoirs");
}

void BM_FashionMnist(benchmark::State& state) { run_pipeline(state, "quickstart.yaml", {}); }

void BM_FortunesBytes(benchmark::State& state) { run_pipeline(state, "gpt-fortunes.yaml", {}); }

void BM_FortunesBpe(benchmark::State& state) {
  const char* tokenizer = std::getenv("STRATUM_BENCH_TOKENIZER");
  if (!tokenizer) {
    state.SkipWithError("STRATUM_BENCH_TOKENIZER is not set (scripts/bench.sh learns one)");
    return;
  }
  run_pipeline(state, "gpt-fortunes.yaml", {std::string("data.tokenizer.path=") + tokenizer});
}

void BM_ImageFolderJpeg(benchmark::State& state) {
  const char* root = std::getenv("STRATUM_BENCH_IMAGES");
  if (!root) {
    state.SkipWithError("STRATUM_BENCH_IMAGES is not set (scripts/bench.sh writes a JPEG folder)");
    return;
  }
  const int64_t workers = state.range(0), batch = 64;
  const RunConfig cfg = load_config(std::string(STRATUM_SOURCE_DIR) + "/configs/vit-image-folder.yaml",
                                    {std::string("data.path=") + root, "data.image.size=224", "data.image.resize=256",
                                     "data.image.channels=3", "data.image.augment=[random_resized_crop, horizontal_flip]",
                                     "data.image.crop_scale=[0.08, 1.0]", "data.image.mean=[0.485, 0.456, 0.406]",
                                     "data.image.std=[0.229, 0.224, 0.225]", "data.workers=" + std::to_string(workers),
                                     "data.validation_fraction=0", "data.reservoir.max_bytes=100000000000",
                                     "data.reservoir.label_share_cap=1.0"});
  Registry registry;
  data::register_builtin_sources(registry.data_sources);
  using Clock = std::chrono::steady_clock;
  const auto seconds = [](Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); };
  double ingest = 0, first = 0, later = 0;
  int64_t images = 0;
  for (auto _ : state) {
    const auto start = Clock::now();
    data::DataContext context;
    context.seed = 1;
    const data::SplitData data = registry.data_sources.find(cfg.data.source)->build(cfg.data, context);
    const auto read = Clock::now();
    data::Loader loader(data.seen, {batch, 1, 4, 0});
    const int64_t per_epoch = (data.seen.size() + batch - 1) / batch;
    for (int64_t i = 0; i < per_epoch; ++i) benchmark::DoNotOptimize(loader.next());
    const auto epoch_one = Clock::now();
    for (int64_t i = 0; i < per_epoch; ++i) benchmark::DoNotOptimize(loader.next());
    const auto epoch_two = Clock::now();
    ingest += seconds(start, read), first += seconds(start, epoch_one), later += seconds(epoch_one, epoch_two);
    images += data.seen.size();
  }
  const auto rate = [&](double time) { return static_cast<double>(images) / time; };
  state.counters["first_epoch_images_per_second"] = rate(first);
  state.counters["later_epoch_images_per_second"] = rate(later);
  state.counters["decode_images_per_second"] = rate(ingest);
  state.SetLabel(std::to_string(workers) + " workers");
}

BENCHMARK(BM_ImageFolderJpeg)->ArgName("workers")->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
BENCHMARK(BM_FashionMnist)->ArgName("passthrough")->Arg(0)->Arg(1)->Iterations(2)->Unit(benchmark::kSecond);
BENCHMARK(BM_FortunesBytes)->ArgName("passthrough")->Arg(0)->Arg(1)->Iterations(2)->Unit(benchmark::kSecond);
BENCHMARK(BM_FortunesBpe)->ArgName("passthrough")->Arg(0)->Arg(1)->Iterations(2)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace stratum

BENCHMARK_MAIN();
