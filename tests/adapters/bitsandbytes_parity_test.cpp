// NF4 parity with bitsandbytes: Stratum's packed codes, block absmax (plain and double
// quantized) and dequantized weights equal bitsandbytes.functional.quantize_4bit /
// dequantize_4bit (nf4, blocksize 64) on random tensors (scripts/parity/bnb_nf4.py).

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>

#include "adapters/quant/blockwise_weight.h"
#include "core/safetensors.h"
#include "support/temp_dir.h"

namespace stratum::adapters::quant {
namespace {

using ::testing::HasSubstr;

TEST(BitsandbytesParity, Nf4CodesAbsmaxAndDequantizedValuesMatch) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  torch::manual_seed(21);
  // Shapes with whole blocks, a short last block, an odd count, more than 256 blocks (two
  // second-level blocks), heavy tails and an all-zero block.
  std::vector<torch::Tensor> weights = {torch::randn({64, 64}) * 0.02, torch::randn({33, 70}),
                                        torch::randn({7, 9}), torch::randn({300, 128}),
                                        torch::empty({40, 64}).cauchy_(0, 0.01), torch::zeros({2, 64})};
  weights[5][1][3] = 0.5f;
  SafetensorsFile file;
  for (size_t i = 0; i < weights.size(); ++i) {
    const std::string k = std::to_string(i);
    const BlockwiseWeight plain(weights[i], "nf4", 64, false), dq(weights[i], "nf4", 64, true);
    file.tensors.emplace_back("weight." + k, weights[i]);
    file.tensors.emplace_back("codes." + k, plain.codes);
    file.tensors.emplace_back("absmax." + k, plain.absmax);
    file.tensors.emplace_back("dequantized." + k, plain.unpack(torch::kFloat32));
    file.tensors.emplace_back("dq_codes." + k, dq.codes);
    file.tensors.emplace_back("dq_absmax_codes." + k, dq.absmax_codes);
    file.tensors.emplace_back("dq_absmax_scales." + k, dq.absmax_scales);
    file.tensors.emplace_back("dq_absmax_offset." + k, dq.absmax_offset);
    file.tensors.emplace_back("dq_dequantized." + k, dq.unpack(torch::kFloat32));
  }
  testing::TempDir dir;
  write_safetensors(dir.path() + "/nf4.safetensors", file);
  const testing::CommandResult r = testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                                        "/scripts/parity/bnb_nf4.py' '" + dir.path() +
                                                        "/nf4.safetensors' 2>&1");
  std::printf("%s", r.out.c_str());
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(r.out, HasSubstr("48 tensors over 6 weights compared"));
}

}  // namespace
}  // namespace stratum::adapters::quant
