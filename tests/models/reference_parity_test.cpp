// Weight parity with the reference implementations: a Hugging Face GPT-2 and a timm ViT
// (Python, from the project's venv) and Stratum's gpt / vit give the same logits on the same
// inputs, in both directions: reference weights imported into Stratum, and Stratum's export
// loaded by the reference library.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>

#include "models/reference_weights.h"
#include "models/model_registry.h"
#include "core/safetensors.h"
#include "models/builtin_models.h"
#include "support/temp_dir.h"
#include "tests/support/user_error.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

const std::string kPython = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
const std::string kScript = std::string(STRATUM_SOURCE_DIR) + "/scripts/parity/reference_models.py";

CommandResult reference(const std::string& arguments) {
  if (!std::filesystem::exists(kPython)) {
    ADD_FAILURE() << kPython << " is missing: run scripts/setup.sh (it creates the venv with torch, transformers, timm)";
    return {};
  }
  return run_command("'" + kPython + "' '" + kScript + "' " + arguments + " 2>&1");
}

// The Stratum side of the shapes scripts/parity/reference_models.py builds.
struct Case {
  std::string kind;   // argument of the Python script
  std::string model;  // registered Stratum model
  models::ModelOptions options;
  data::DataSpec spec;
};

Case gpt2_case() {
  Case c{"gpt2", "gpt-tiny", {}, {}};
  c.options.name = c.model;
  c.options.layers = 2, c.options.width = 64, c.options.heads = 4, c.options.mlp_hidden = 256;
  c.options.context = 32, c.options.vocab_size = 257, c.options.dropout = 0.0;
  c.spec = data::byte_token_spec(16);
  return c;
}

Case vit_case() {
  Case c{"vit", "vit-tiny", {}, {}};
  c.options.name = c.model;
  c.options.layers = 2, c.options.width = 64, c.options.heads = 4, c.options.mlp_hidden = 256;
  c.options.patch_size = 8, c.options.dropout = 0.0, c.options.pool = models::Pooling::token;
  c.spec.input_shape = {3, 32, 32};
  c.spec.num_classes = 10;
  return c;
}

models::ModelPtr build(const Case& c) {
  models::ModelRegistry registry{"model"};
  models::register_builtin_models(registry);
  models::ModelPtr model = build_model(registry, c.options, c.spec);
  model->eval();
  return model;
}

torch::Tensor named(const SafetensorsFile& file, const std::string& name) {
  for (const auto& [n, t] : file.tensors) {
    if (n == name) return t;
  }
  ADD_FAILURE() << "no tensor " << name;
  return {};
}

void reference_weights_load_into_stratum(Case c) {
  TempDir dir;
  const CommandResult made = reference("make " + c.kind + " " + dir.path());
  ASSERT_EQ(made.exit_code, 0) << made.out;
  c.options.init_from = dir.path() + "/weights.safetensors";
  const models::ModelPtr model = build(c);
  const SafetensorsFile fixtures = read_safetensors(dir.path() + "/fixtures.safetensors");
  torch::NoGradGuard no_grad;
  const torch::Tensor logits = model->forward({named(fixtures, "inputs"), {}});
  const torch::Tensor expected = named(fixtures, "logits");
  ASSERT_EQ(logits.sizes(), expected.sizes());
  const double difference = (logits - expected).abs().max().item<double>();
  std::printf("%s -> Stratum: max |logit difference| = %.3e\n", c.kind.c_str(), difference);
  EXPECT_LE(difference, 1e-4);
}

void stratum_export_loads_into_the_reference(const Case& c, torch::Tensor inputs) {
  TempDir dir;
  torch::manual_seed(9);
  const models::ModelPtr model = build(c);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(torch::randn_like(p) * 0.05);  // no zero biases or unit norms
  }
  write_safetensors(dir.path() + "/weights.safetensors", reference_weights(*model));
  torch::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = model->forward({inputs, {}});
  }
  write_safetensors(dir.path() + "/fixtures.safetensors", {{{"inputs", inputs}, {"logits", logits}}, {}});
  const CommandResult checked =
      reference("check " + c.kind + " " + dir.path() + "/weights.safetensors " + dir.path() + "/fixtures.safetensors");
  EXPECT_EQ(checked.exit_code, 0) << checked.out;
  std::printf("Stratum -> %s", checked.out.c_str());
  EXPECT_THAT(checked.out, HasSubstr("max |logit difference|"));
}

TEST(ReferenceParity, HuggingFaceGpt2WeightsGiveTheSameLogitsInStratum) { reference_weights_load_into_stratum(gpt2_case()); }

TEST(ReferenceParity, TimmVitWeightsGiveTheSameLogitsInStratum) { reference_weights_load_into_stratum(vit_case()); }

TEST(ReferenceParity, TimmMeanPooledVitWeightsGiveTheSameLogitsInStratum) {
  Case c = vit_case();
  c.kind = "vit-avg";
  c.options.pool = models::Pooling::mean;
  reference_weights_load_into_stratum(c);
}

TEST(ReferenceParity, StratumGptExportLoadsIntoHuggingFace) {
  stratum_export_loads_into_the_reference(gpt2_case(), torch::randint(0, 257, {2, 16}, torch::kInt64));
}

TEST(ReferenceParity, StratumVitExportLoadsIntoTimm) {
  stratum_export_loads_into_the_reference(vit_case(), torch::randn({2, 3, 32, 32}));
}

TEST(ReferenceWeights, MismatchesAreListedInOneError) {
  TempDir dir;
  const Case c = gpt2_case();
  SafetensorsFile file = reference_weights(*build(c));
  file.tensors.erase(file.tensors.begin() + 2);                                   // drop one tensor
  file.tensors[0].second = torch::zeros({10, 64});                                // wrong vocabulary
  file.tensors.emplace_back("transformer.h.9.ln_1.weight", torch::ones({64}));    // one too many
  file.tensors.emplace_back("lm_head.weight", torch::ones({257, 64}));            // tied copy: ignored
  write_safetensors(dir.path() + "/w.safetensors", file);
  Case broken = c;
  broken.options.init_from = dir.path() + "/w.safetensors";
  const std::string message = user_error([&] { build(broken); });
  EXPECT_THAT(message, HasSubstr("w.safetensors: the weights do not fit the configured model (layout gpt2)"));
  EXPECT_THAT(message, HasSubstr("shapes differ: transformer.wte.weight file [10,64] model [257,64]"));
  EXPECT_THAT(message, HasSubstr("missing: transformer.h.0.ln_1.weight"));
  EXPECT_THAT(message, HasSubstr("unexpected: transformer.h.9.ln_1.weight"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("lm_head")));
  EXPECT_EQ(message.find('\n'), std::string::npos);
}

TEST(Safetensors, RoundTripsEveryDtypeAndRejectsTruncatedFiles) {
  TempDir dir;
  const std::string path = dir.path() + "/t.safetensors";
  SafetensorsFile file;
  file.metadata["format"] = "pt";
  file.tensors = {{"f32", torch::randn({3, 4})}, {"bf16", torch::randn({5}).to(torch::kBFloat16)},
                  {"i64", torch::arange(7)},     {"u8", torch::arange(9).to(torch::kUInt8)},
                  {"empty", torch::zeros({0, 3})}, {"scalar", torch::tensor(2.5)}};
  write_safetensors(path, file);
  const SafetensorsFile back = read_safetensors(path);
  EXPECT_EQ(back.metadata, file.metadata);
  ASSERT_EQ(back.tensors.size(), file.tensors.size());
  for (size_t i = 0; i < file.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].first, file.tensors[i].first);
    EXPECT_TRUE(torch::equal(back.tensors[i].second, file.tensors[i].second)) << file.tensors[i].first;
  }
  const std::string bytes = read_file(path);
  const std::string cut = dir.write("cut.safetensors", bytes.substr(0, bytes.size() - 3));
  EXPECT_THAT(user_error([&] { read_safetensors(cut); }),
              HasSubstr("the file is truncated or corrupt"));
  const std::string junk = dir.write("junk.safetensors", "\xff\xff\xff\xff\xff\xff\xff\x7f{}");
  EXPECT_THAT(user_error([&] { read_safetensors(junk); }),
              HasSubstr("not a safetensors file (header length"));
  EXPECT_THAT(user_error([&] { read_safetensors(dir.path() + "/none.safetensors"); }),
              HasSubstr("none.safetensors: cannot open the weights file"));
}

// A safetensors file with one tensor whose header says `shape`, over `data_bytes` bytes.
std::string safetensors_with_shape(const std::string& name, const std::string& shape, size_t data_bytes) {
  std::string header = "{\"" + name + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[0," +
                       std::to_string(data_bytes) + "]}}";
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
  return out + header + std::string(data_bytes, '\0');
}

TEST(Safetensors, ShapesThatOverflowOrLieAreOneLineErrors) {
  TempDir dir;
  // 2^32 x 2^32 x 16 elements wrap to 0 bytes in 64 bits; the header must not be believed.
  const std::string wrap = dir.write("wrap.safetensors", safetensors_with_shape("w", "[4294967296,4294967296,16]", 0));
  EXPECT_THAT(user_error([&] { read_safetensors(wrap); }), HasSubstr("tensor \"w\": shape [4294967296,4294967296,16] holds more elements than the file's"));
  const std::string huge = dir.write("huge.safetensors", safetensors_with_shape("w", "[18446744073709551615]", 4));
  EXPECT_THAT(user_error([&] { read_safetensors(huge); }), HasSubstr("holds more elements than the file's"));
  const std::string ranks = dir.write("ranks.safetensors", safetensors_with_shape("w", "[1,1,1,1,1,1,1,1,1,1]", 4));
  EXPECT_THAT(user_error([&] { read_safetensors(ranks); }), HasSubstr("at most 8 sizes"));
  // A tensor name holding a terminal escape is printed escaped.
  const std::string escape = dir.write("esc.safetensors", safetensors_with_shape("\\u001b[2Jx", "[2]", 4));
  const std::string message = user_error([&] { read_safetensors(escape); });
  EXPECT_THAT(message, HasSubstr("tensor \"\\x1B[2Jx\""));
  EXPECT_EQ(message.find('\x1B'), std::string::npos);
}

TEST(ReferenceWeights, AThreeDimensionalTensorWhereAMatrixBelongsIsAShapeMismatch) {
  TempDir dir;
  const Case c = gpt2_case();
  SafetensorsFile file = reference_weights(*build(c));
  for (auto& [name, tensor] : file.tensors) {
    if (name == "transformer.h.0.attn.c_attn.weight") tensor = torch::zeros({2, 64, 96});  // transposed on load
    if (name == "transformer.h.0.ln_1.weight") tensor = torch::zeros({8, 8});
  }
  write_safetensors(dir.path() + "/w.safetensors", file);
  Case broken = c;
  broken.options.init_from = dir.path() + "/w.safetensors";
  const std::string message = user_error([&] { build(broken); });
  EXPECT_THAT(message, HasSubstr("shapes differ: "));
  EXPECT_THAT(message, HasSubstr("transformer.h.0.attn.c_attn.weight file [2,64,96] model [64,192]"));
  EXPECT_THAT(message, HasSubstr("transformer.h.0.ln_1.weight file [8,8] model [64]"));
}

}  // namespace
}  // namespace stratum::testing
