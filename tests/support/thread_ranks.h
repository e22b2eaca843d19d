#pragma once
// Ranks of a Gloo process group as threads of one test process, meeting over a real TCPStore
// on loopback (header-only: its users link LibTorch and stratum_distributed).

#include <exception>
#include <functional>
#include <thread>
#include <vector>

#include "distributed/process_group.h"
#include "support/free_port.h"

namespace stratum::testing {

/// Rank `rank` of `world_size` on 127.0.0.1:`port`.
inline distributed::WorldInfo thread_rank(int rank, int world_size, int port) {
  distributed::WorldInfo world;
  world.rank = rank;
  world.world_size = world_size;
  world.local_rank = rank;
  world.local_world_size = world_size;
  world.master_addr = "127.0.0.1";
  world.master_port = port;
  return world;
}

/// Gloo with both timeouts `timeout_s`.
inline distributed::ProcessGroupOptions gloo_options(double timeout_s = 30) {
  distributed::ProcessGroupOptions options;
  options.backend = distributed::Backend::gloo;
  options.init_timeout_s = timeout_s;
  options.collective_timeout_s = timeout_s;
  return options;
}

/// Runs `body(group, rank)` on ranks 0 … world_size-1 in as many threads; rethrows the first failure.
inline void on_ranks(int world_size, const std::function<void(distributed::ProcessGroup&, int)>& body) {
  const int port = free_port();
  std::vector<std::exception_ptr> errors(static_cast<size_t>(world_size));
  std::vector<std::thread> ranks;
  for (int r = 0; r < world_size; ++r) {
    ranks.emplace_back([&, r] {
      try {
        const auto group = distributed::ProcessGroup::connect(thread_rank(r, world_size, port), gloo_options());
        body(*group, r);
      } catch (...) {
        errors[static_cast<size_t>(r)] = std::current_exception();
      }
    });
  }
  for (auto& t : ranks) t.join();
  for (auto& e : errors) {
    if (e) std::rethrow_exception(e);
  }
}

}  // namespace stratum::testing
