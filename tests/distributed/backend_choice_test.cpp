// Which c10d backend a job gets, and the one-line refusals when a build or machine lacks it.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "core/torch_compat.h"
#include "distributed/process_group.h"

namespace stratum::distributed {
namespace {

using ::testing::HasSubstr;

TEST(BackendChoice, CpuJobsGetGlooAndNcclNeedsCudaTensors) {
  ProcessGroupOptions cpu;
  if (compat::gloo_available()) EXPECT_EQ(resolve_backend(cpu), "gloo");
  cpu.backend = Backend::nccl;
  try {
    resolve_backend(cpu);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("distributed.backend: nccl reduces CUDA tensors"));
  }
  ProcessGroupOptions gpu;
  gpu.cuda = true;
  if (compat::nccl_available()) EXPECT_EQ(resolve_backend(gpu), "nccl");
}

// The PyTorch wheel's LibTorch ships no Gloo headers, so that build (build-cuda/) names the
// build that has Gloo instead of failing somewhere inside c10d.
TEST(BackendChoice, ABuildWithoutGlooSaysSoBeforeMeetingAnyone) {
  WorldInfo world;
  world.rank = 1;
  world.world_size = 2;
  world.master_port = 1;  // nobody listens there: never tried when Gloo is missing
  ProcessGroupOptions options;
  options.backend = Backend::gloo;
  options.init_timeout_s = 1;
  try {
    ProcessGroup::connect(world, options);
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr(compat::gloo_available() ? "MASTER_PORT=1" : "gloo is not compiled into this build"));
  }
}

}  // namespace
}  // namespace stratum::distributed
