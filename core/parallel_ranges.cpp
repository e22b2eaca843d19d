#include "core/parallel_ranges.h"

#include <algorithm>
#include <exception>
#include <thread>
#include <vector>

namespace stratum {

void parallel_ranges(int64_t n, int64_t threads, const std::function<void(int64_t, int64_t)>& work) {
  threads = std::clamp<int64_t>(threads, 1, std::max<int64_t>(1, n));
  if (threads == 1) {
    if (n > 0) work(0, n);
    return;
  }
  std::vector<std::thread> pool;
  std::vector<std::exception_ptr> errors(static_cast<size_t>(threads));
  for (int64_t t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      try {
        work(n * t / threads, n * (t + 1) / threads);
      } catch (...) {
        errors[static_cast<size_t>(t)] = std::current_exception();
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  for (const auto& error : errors) {
    if (error) std::rethrow_exception(error);
  }
}

}  // namespace stratum
