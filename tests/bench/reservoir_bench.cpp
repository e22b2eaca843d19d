// Records per second through StratifiedReservoir::offer, uniform and decayed, with 10 and
// 1,000 labels, and the bytes each stored item costs. Run: build/bin/stratum_bench_reservoir

#include <benchmark/benchmark.h>

#include <vector>

#include "data/rng.h"
#include "data/sampling/stratified_reservoir.h"

namespace stratum::data {
namespace {

// A pre-built stream of small records (8-byte payloads) with a skewed label mix.
std::vector<Record> make_stream(int64_t labels, size_t n) {
  Rng rng(42);
  std::vector<Record> stream(n);
  for (size_t i = 0; i < n; ++i) {
    // Label mix: half the records on label 0, the rest uniform over the others.
    stream[i].labels = {rng.uniform() < 0.5 ? 0 : static_cast<int32_t>(rng.below(static_cast<uint64_t>(labels)))};
    stream[i].payload = "12345678";
    stream[i].time = static_cast<double>(i);
  }
  return stream;
}

void BM_Offer(benchmark::State& state) {
  const int64_t labels = state.range(0);
  const bool decayed = state.range(1) != 0;
  data::ReservoirOptions options;
  options.max_items = 200 * labels;
  options.min_per_label = 50;
  options.max_per_label = 200;
  options.label_share_cap = 1.0;
  options.decay = decayed ? 1e-6 : 0.0;
  const std::vector<Record> stream = make_stream(labels, 1 << 20);
  StratifiedReservoir sampler(options, 1);
  // Warm up past the filling phase: the steady state is what a long stream sees.
  for (const Record& r : stream) sampler.offer(r);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sampler.offer(stream[i]));
    i = (i + 1) & (stream.size() - 1);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["bytes_per_item"] =
      static_cast<double>(sampler.total_bytes()) / static_cast<double>(std::max<int64_t>(1, sampler.total_items()));
}

BENCHMARK(BM_Offer)->ArgNames({"labels", "decayed"})->Args({10, 0})->Args({1000, 0})->Args({10, 1})->Args({1000, 1});

}  // namespace
}  // namespace stratum::data

BENCHMARK_MAIN();
