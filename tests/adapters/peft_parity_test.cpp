// LoRA parity with Hugging Face PEFT: the same GPT-2 weights and adapters give the same
// logits and the same LoRA gradients in Stratum and in PEFT (scripts/parity/peft_lora.py).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "adapters/lora.h"
#include "models/reference_weights.h"
#include "models/model_registry.h"
#include "core/safetensors.h"
#include "models/builtin_models.h"
#include "support/temp_dir.h"

namespace stratum::adapters {
namespace {

using ::testing::HasSubstr;

TEST(PeftParity, LoraLogitsAndGradientsMatchPeft) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  // The GPT-2 shape of scripts/parity/reference_models.py.
  models::ModelRegistry registry{"model"};
  models::register_builtin_models(registry);
  models::ModelOptions options;
  options.name = "gpt-tiny";
  options.layers = 2, options.width = 64, options.heads = 4, options.mlp_hidden = 256;
  options.context = 32, options.vocab_size = 257, options.dropout = 0.0;
  torch::manual_seed(13);
  models::ModelPtr model = build_model(registry, options, data::byte_token_spec(16));
  model->eval();
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);
  }
  const int64_t rank = 4;
  const double alpha = 8;
  apply_lora(*model, {rank, alpha, 0.0, {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"}});
  {
    torch::NoGradGuard no_grad;
    for (auto& [name, p] : lora_parameters(*model)) p.normal_(0, 0.1);  // trained-looking A and B
  }
  testing::TempDir dir;
  write_safetensors(dir.path() + "/base.safetensors", reference_weights(*model));

  const torch::Tensor inputs = torch::randint(0, 257, {2, 16}, torch::kInt64);
  const torch::Tensor logits = model->forward({inputs, {}});
  logits.pow(2).mean().backward();
  // PEFT names: base_model.model.<layer in Hugging Face's names>.lora_A.weight.
  SafetensorsFile adapter, fixtures;
  fixtures.tensors = {{"inputs", inputs}, {"logits", logits.detach()}};
  for (const auto& [name, p] : lora_parameters(*model)) {
    const std::string layer = name.substr(0, name.find(".lora."));
    std::string reference = model->reference_name(layer + ".weight").name;
    reference = reference.substr(0, reference.size() - std::string(".weight").size());
    const std::string peft = "base_model.model." + reference + (name.back() == 'A' ? ".lora_A" : ".lora_B") + ".weight";
    adapter.tensors.emplace_back(peft, p.detach());
    fixtures.tensors.emplace_back(peft + ".grad", p.grad());
  }
  ASSERT_EQ(adapter.tensors.size(), 16u);  // 2 blocks x 4 layers x (A, B)
  write_safetensors(dir.path() + "/adapter.safetensors", adapter);
  write_safetensors(dir.path() + "/fixtures.safetensors", fixtures);

  const testing::CommandResult r = testing::run_command(
      "'" + python + "' '" + STRATUM_SOURCE_DIR + "/scripts/parity/peft_lora.py' '" + dir.path() +
      "/base.safetensors' '" + dir.path() + "/adapter.safetensors' '" + dir.path() + "/fixtures.safetensors' " +
      std::to_string(rank) + " " + std::to_string(alpha) + " 2>&1");
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("over 16 tensors"));
}

}  // namespace
}  // namespace stratum::adapters
