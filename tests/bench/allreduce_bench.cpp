// Gloo all-reduce bandwidth on loopback, with Google Benchmark: two ranks of one c10d process
// group (this thread is rank 0, a peer thread rank 1; Gloo talks TCP between them as between
// processes) sum float32 tensors of growing size. Bytes per second counts the tensor once per
// all-reduce, like PyTorch's "algorithm bandwidth" (nccl-tests' algbw).

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <memory>
#include <thread>

#include "distributed/process_group.h"
#include "support/free_port.h"

namespace stratum::distributed {
namespace {

WorldInfo rank_of_two(int rank, int port) {
  WorldInfo world;
  world.rank = rank;
  world.world_size = 2;
  world.master_port = port;
  return world;
}

// Both ranks run `iterations` all-reduces of `elements` floats; rank 1 in its own thread.
void BM_GlooAllReduce(benchmark::State& state) {
  const int64_t elements = state.range(0) / 4;
  const int port = testing::free_port();
  ProcessGroupOptions options;
  options.backend = distributed::Backend::gloo;
  const int64_t iterations = state.max_iterations;
  std::thread peer([&] {
    auto group = ProcessGroup::connect(rank_of_two(1, port), options);
    torch::Tensor t = torch::ones({elements});
    group->barrier();
    for (int64_t i = 0; i < iterations; ++i) group->all_reduce_sum(t);
    group->barrier();
  });
  {
    auto group = ProcessGroup::connect(rank_of_two(0, port), options);
    torch::Tensor t = torch::ones({elements});
    group->barrier();
    for (auto _ : state) group->all_reduce_sum(t);
    group->barrier();
  }
  peer.join();
  state.SetBytesProcessed(state.iterations() * elements * 4);
}

// Fixed iteration counts: the peer thread must know how many all-reduces to join.
BENCHMARK(BM_GlooAllReduce)->Arg(4 << 10)->Iterations(2000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_GlooAllReduce)->Arg(64 << 10)->Iterations(1000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_GlooAllReduce)->Arg(1 << 20)->Iterations(200)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_GlooAllReduce)->Arg(16 << 20)->Iterations(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GlooAllReduce)->Arg(100 << 20)->Iterations(5)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace stratum::distributed

BENCHMARK_MAIN();
