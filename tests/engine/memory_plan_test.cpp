// A run's memory is planned from the config and the data's shape before anything large is
// allocated: absurd sizes are refused with the figure they would need.

#include "engine/memory_plan.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/registry.h"
#include "models/builtin_models.h"
#include "support/user_error.h"

namespace stratum {
namespace {

using ::testing::HasSubstr;

Registry builtins() {
  Registry registry;
  models::register_builtin_models(registry.models);
  return registry;
}

data::DataSpec fashion_spec() {
  data::DataSpec spec;
  spec.input_shape = {1, 28, 28};
  spec.num_classes = 10;
  return spec;
}

RunConfig config_for(const std::string& model) {
  RunConfig config;
  config.model.name = model;
  return config;
}

TEST(MemoryPlan, ParameterCountsOfTheSmallModelsMatchTheBuiltModels) {
  const Registry registry = builtins();
  for (const char* name : {"mlp", "cnn"}) {
    for (const std::vector<int64_t>& channels : {std::vector<int64_t>{8, 16}, {32, 64, 128}}) {
      RunConfig config = config_for(name);
      config.model.channels = channels;
      config.model.hidden = 48;
      const ModelEntry& entry = *registry.models.find(name);
      int64_t built = 0;
      for (const auto& p : entry.build(config.model, fashion_spec())->parameters()) built += p.numel();
      EXPECT_EQ(entry.parameter_count(config.model, fashion_spec()), built) << name;
    }
  }
}

TEST(MemoryPlan, AModelWidthOfAMillionIsRefusedWithTheMemoryItNeeds) {
  const Registry registry = builtins();
  RunConfig config = config_for("gpt-tiny");
  config.model.width = 1000000;
  config.model.heads = 1;
  const MemoryPlan plan = plan_memory(config, registry, data::byte_token_spec(64));
  EXPECT_GT(plan.parameters, int64_t{8} * 1000000 * 1000000);  // two blocks of attention, 4 w^2 each
  EXPECT_DOUBLE_EQ(plan.model_bytes, 16.0 * static_cast<double>(plan.parameters));  // AdamW, fp32
  const std::string error = testing::user_error([&] { check_memory_plan(config, plan, uint64_t{24} << 30); });
  EXPECT_THAT(error, HasSubstr("model.width: gpt-tiny at these sizes has "));
  EXPECT_THAT(error, HasSubstr("TiB (weights, gradients and optimizer state) but this machine has 24 GiB available"));
  EXPECT_EQ(testing::user_error([&] { check_memory_plan(config, plan, 0); }), "");  // unknown: not refused
}

TEST(MemoryPlan, APrefetchQueueThatCannotFitIsRefusedNamingPrefetch) {
  const Registry registry = builtins();
  RunConfig config = config_for("mlp");
  config.data.prefetch = 1024;
  config.trainer.batch_size = 1 << 20;
  const MemoryPlan plan = plan_memory(config, registry, fashion_spec());
  EXPECT_DOUBLE_EQ(plan.batch_bytes, 1026.0 * (1 << 20) * 784 * 4);
  const std::string error = testing::user_error([&] { check_memory_plan(config, plan, uint64_t{24} << 30); });
  EXPECT_THAT(error, HasSubstr("data.prefetch: the model ("));
  EXPECT_THAT(error, HasSubstr("lower data.prefetch or trainer.batch_size"));
  config.data.prefetch = 4;
  config.trainer.batch_size = 128;
  EXPECT_EQ(testing::user_error([&] { check_memory_plan(config, plan_memory(config, registry, fashion_spec()), uint64_t{24} << 30); }), "");
}

}  // namespace
}  // namespace stratum
