// What the memory-saving transforms cost on the CPU, with Google Benchmark:
//   BM_QuantizedLinear: forward of a gpt-125m MLP layer (768 -> 3072) over 512 tokens with a
//     float32, int8, nf4 or int4 weight; counter bytes_per_weight.
//   BM_Gpt125mStep: forward + backward of gpt-125m (12 x 768, vocabulary 50257) on 2 x 256
//     tokens with and without gradient checkpointing; counter activation_mb = memory held
//     between the forward and the backward pass.
// Run: scripts/bench_adapters.sh (or build/bin/stratum_bench_adapters).

#include <benchmark/benchmark.h>
#include <malloc.h>
#include <torch/torch.h>
#include <unistd.h>

#include <fstream>

#include "adapters/quant/quantize_model.h"
#include "models/next_token_loss.h"
#include "engine/registry.h"
#include "models/builtin_models.h"
#include "models/transformer_block.h"

namespace stratum {
namespace {

const char* const kFormats[] = {"float32", "int8", "nf4", "int4"};

void BM_QuantizedLinear(benchmark::State& state) {
  const std::string format = kFormats[state.range(0)];
  torch::manual_seed(0);
  models::AdaptableLinear layer(768, 3072);
  double bytes_per_weight = 4.0;
  if (format != "float32") {
    adapters::QuantizationOptions options;
    parse_choice(format, options.mode);
    auto packed = adapters::quant::quantize_weight(layer->weight.detach(), options);
    bytes_per_weight = static_cast<double>(packed->bytes()) / static_cast<double>(packed->numel());
    layer->pack_weight(packed);
  }
  const torch::Tensor x = torch::randn({4, 128, 768});
  torch::NoGradGuard no_grad;
  for (auto _ : state) benchmark::DoNotOptimize(layer->forward(x));
  state.SetItemsProcessed(state.iterations() * 4 * 128);
  state.SetLabel(format);
  state.counters["bytes_per_weight"] = bytes_per_weight;
}
BENCHMARK(BM_QuantizedLinear)->ArgName("format")->DenseRange(0, 3)->Unit(benchmark::kMillisecond);

// Resident memory now, in bytes. With a fixed mmap threshold (main) every tensor above 64 KiB
// is its own mapping, returned on free, so resident memory tracks the live tensors.
double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void BM_Gpt125mStep(benchmark::State& state) {
  const bool recompute = state.range(0) != 0;
  torch::manual_seed(0);
  Registry registry;
  models::register_builtin_models(registry.models);
  models::ModelOptions options;
  options.name = "gpt-125m";
  options.dropout = 0.1;
  models::ModelPtr model = build_model(registry, options, data::byte_token_spec(256));
  for (const auto& module : model->modules(/*include_self=*/false)) {
    if (auto* block = dynamic_cast<models::TransformerBlock*>(module.get())) block->recompute = recompute;
  }
  model->train();
  const int64_t vocab = model->named_parameters()["token_embedding.weight"].size(0);
  const torch::Tensor tokens = torch::randint(0, vocab, {2, 257}, torch::kInt64);
  const data::Batch batch{tokens.narrow(1, 0, 256), {}};
  const torch::Tensor targets = tokens.narrow(1, 1, 256);
  double activations = 0;
  for (auto _ : state) {
    const double before = resident_bytes();
    const torch::Tensor logits = model->forward(batch);
    const torch::Tensor loss = torch::cross_entropy_loss(logits.reshape({-1, vocab}), targets.reshape({-1}));
    activations = std::max(activations, resident_bytes() - before);
    loss.backward();
    for (auto& p : model->parameters()) p.mutable_grad() = torch::Tensor();
  }
  state.SetItemsProcessed(state.iterations() * 2 * 256);
  state.SetLabel(recompute ? "gradient checkpointing" : "plain");
  state.counters["activation_mb"] = activations / 1e6;
}
BENCHMARK(BM_Gpt125mStep)->ArgName("recompute")->Arg(0)->Arg(1)->Iterations(3)->Unit(benchmark::kSecond);

}  // namespace
}  // namespace stratum

int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 64 * 1024);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
