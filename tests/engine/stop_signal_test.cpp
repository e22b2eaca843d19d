#include "engine/stop_signal.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace stratum {
namespace {

// Each case runs in a forked child (a death test): the handlers and their state are process-wide.

TEST(StopSignalDeathTest, OneStopDeliveredTwiceAtOnceIsOneRequest) {
  EXPECT_EXIT(
      {
        install_stop_handlers();
        ::raise(SIGTERM);
        ::raise(SIGTERM);  // what `timeout` does: to the child, then to its process group
        ::raise(SIGINT);
        ::_exit(stop_requested() ? 0 : 3);
      },
      ::testing::ExitedWithCode(0), "stopping: the last complete step will be checkpointed");
}

TEST(StopSignalDeathTest, ASignalAfterTheWindowAbortsWithTheShellsCode) {
  EXPECT_EXIT(
      {
        install_stop_handlers();
        ::raise(SIGINT);
        std::this_thread::sleep_for(std::chrono::nanoseconds(kRepeatedSignalWindowNs) + std::chrono::milliseconds(200));
        ::raise(SIGTERM);
        ::_exit(3);  // not reached: the second stop aborts
      },
      ::testing::ExitedWithCode(128 + SIGTERM), "");
}

}  // namespace
}  // namespace stratum
