#include "distributed/world.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "support/user_error.h"

namespace stratum::distributed {
namespace {

using ::testing::HasSubstr;

std::string world_error(const std::map<std::string, std::string>& env) {
  return testing::user_error([&] { world_from_environment(env); });
}

TEST(World, SingleProcessWithoutVariables) {
  const WorldInfo w = world_from_environment({});
  EXPECT_EQ(w.rank, 0);
  EXPECT_EQ(w.world_size, 1);
  EXPECT_FALSE(w.is_distributed());
}

TEST(World, TorchrunVariables) {
  const WorldInfo w = world_from_environment({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                              {"LOCAL_WORLD_SIZE", "2"}, {"MASTER_ADDR", "10.1.2.3"},
                                              {"MASTER_PORT", "29400"}});
  EXPECT_EQ(w.rank, 3);
  EXPECT_EQ(w.world_size, 4);
  EXPECT_EQ(w.local_rank, 1);
  EXPECT_EQ(w.master_addr, "10.1.2.3");
  EXPECT_EQ(w.master_port, 29400);
  EXPECT_EQ(w.launcher, "torchrun");
}

TEST(World, SlurmVariables) {
  const WorldInfo w = world_from_environment(
      {{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}, {"SLURM_NODELIST", "gpu[07-08],cpu1"}});
  EXPECT_EQ(w.rank, 5);
  EXPECT_EQ(w.world_size, 8);
  EXPECT_EQ(w.master_addr, "gpu07");
  EXPECT_EQ(w.launcher, "slurm");
  EXPECT_EQ(first_slurm_host("a1,b2"), "a1");
  EXPECT_EQ(first_slurm_host("node[3,5]"), "node3");
}

TEST(World, BadEnvironmentsNameTheVariable) {
  EXPECT_EQ(world_error({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}),
            "environment: RANK=2 is not below WORLD_SIZE=2");
  EXPECT_THAT(world_error({{"RANK", "0"}}), HasSubstr("WORLD_SIZE is not set"));
  EXPECT_THAT(world_error({{"RANK", "x"}, {"WORLD_SIZE", "2"}}), HasSubstr("RANK=\"x\" is not an integer"));
  EXPECT_THAT(world_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}}),
              HasSubstr("MASTER_ADDR is not set"));
  EXPECT_THAT(world_error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}),
              HasSubstr("MASTER_PORT=70000 is not a TCP port"));
}

}  // namespace
}  // namespace stratum::distributed
