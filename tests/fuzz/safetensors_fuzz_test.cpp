// Safetensors weight files: mutated headers and bodies either read or are refused with one
// line naming the file and tensor; what reads is then loaded into a model, which either fits
// or is refused naming the tensor.

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "models/reference_weights.h"
#include "engine/registry.h"
#include "core/safetensors.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "models/builtin_models.h"
#include "support/temp_dir.h"

namespace stratum::testing {
namespace {

const std::vector<std::string> kJsonTokens = {
    "{", "}", "[", "]", ",", ":", "\"", "null", "true", "-1", "1e400", "18446744073709551616", "\"dtype\"", "\"F32\"",
    "\"BF16\"", "\"U8\"", "\"Q4\"", "\"shape\"", "[4294967296,4294967296]", "[1,1,1,1,1,1,1,1,1]", "\"data_offsets\"",
    "[0,0]", "[99,1]", "\"__metadata__\"", "\\u0000", "\\u001b[2J", "\\ud800"};

TEST(SafetensorsFuzz, MutatedWeightFilesReadOrNameTheProblem) {
  TempDir dir;
  Registry registry;
  models::register_builtin_models(registry.models);
  models::ModelOptions options;
  options.name = "gpt-tiny";
  options.layers = 1, options.width = 16, options.heads = 2, options.mlp_hidden = 32, options.context = 8;
  options.vocab_size = 257;
  const data::DataSpec spec = data::byte_token_spec(8);
  const std::string valid_path = dir.path() + "/valid.safetensors";
  write_safetensors(valid_path, reference_weights(*registry.models.find("gpt-tiny")->build(options, spec)));
  const std::string valid = read_file(valid_path);
  Mutator mutator(11, kJsonTokens);
  FuzzTally tally("safetensors headers");
  for (int i = 0; i < 1500; ++i) {
    std::string bytes = valid;
    // Mostly the header (the first 8 bytes give its length, then JSON); sometimes anywhere.
    const size_t header = 8 + static_cast<size_t>(static_cast<unsigned char>(bytes[0])) +
                          (static_cast<size_t>(static_cast<unsigned char>(bytes[1])) << 8);
    if (mutator.below(4) != 0 && header < bytes.size()) {
      bytes = mutator.mutate(bytes.substr(0, header)) + bytes.substr(header);
    } else {
      bytes = mutator.mutate(bytes);
    }
    const std::string path = dir.write("fuzz.safetensors", bytes);
    tally.run(i, [&] {
      read_safetensors(path);
      models::ModelOptions load = options;
      load.init_from = path;
      build_model(registry, load, spec);
    });
  }
  EXPECT_GT(tally.refused(), 1000);
}

}  // namespace
}  // namespace stratum::testing
