// `stratum generate` through the binary: greedy decoding token-for-token equal to Hugging Face
// transformers' generate() on the same random GPT-2 (alone and left-padded in a batch), text
// from a trained run with streaming, seeded sampling, stop strings, and bad input refused.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "integration/training_run.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

const std::string kPython = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";

TEST(Generate, GreedyTokensEqualTransformersGenerateAloneAndBatched) {
  ASSERT_TRUE(fs::exists(kPython)) << kPython << " is missing: run scripts/setup.sh";
  TempDir dir;
  const CommandResult made = run_command("'" + kPython + "' '" + STRATUM_SOURCE_DIR +
                                         "/scripts/parity/reference_models.py' generate " + dir.path() + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const nlohmann::json expected = json_lines(read_file(dir.path() + "/expected.jsonl")).at(0);
  const std::string common = std::string(kReferenceGptShape) + " --weights " + dir.path() + "/weights.safetensors --prompts " +
                             dir.path() + "/prompts.jsonl --max-new-tokens 64";
  for (const bool cache : {true, false}) {
    const CommandResult alone = run_stratum("generate" + common + " --batch 1 --out " + dir.path() + "/alone.jsonl" +
                                            (cache ? "" : " --no-cache"));
    ASSERT_EQ(alone.exit_code, 0) << alone.out << alone.err;
    const auto rows = json_lines(read_file(dir.path() + "/alone.jsonl"));
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0]["tokens"], expected["alone"][0]) << "cache " << cache;
    EXPECT_EQ(rows[0]["finish"], "length");
  }
  const CommandResult batched = run_stratum("generate" + common + " --batch 3 --out " + dir.path() + "/batched.jsonl");
  ASSERT_EQ(batched.exit_code, 0) << batched.out << batched.err;
  const auto rows = json_lines(read_file(dir.path() + "/batched.jsonl"));
  ASSERT_EQ(rows.size(), 3u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(rows[i]["tokens"], expected["batched"][i]) << "prompt " << i;
  EXPECT_THAT(batched.err + batched.out, HasSubstr("tokens/s, key/value cache on"));
}

TEST(Generate, ATrainedRunStreamsSamplesReproduciblyAndStopsOnAString) {
  TempDir dir;
  const RunResult run = train("configs/gpt-fortunes.yaml", std::string(kSmallText) + " --set trainer.steps=20", dir);
  const std::string base = "generate --checkpoint " + run.run_dir + " --max-new-tokens 12";

  const CommandResult greedy = run_stratum(base + " --prompt 'The ' --out " + dir.path() + "/greedy.jsonl");
  ASSERT_EQ(greedy.exit_code, 0) << greedy.out << greedy.err;
  const nlohmann::json row = json_lines(read_file(dir.path() + "/greedy.jsonl")).at(0);
  EXPECT_EQ(row["tokens"].size(), 12u);
  EXPECT_EQ(row["finish"], "length");
  EXPECT_EQ(row["prompt"], "The ");
  const std::string text = row["text"];
  EXPECT_THAT(greedy.out, HasSubstr("The " + text));  // one prompt: streamed as it is generated

  const std::string sample = base + " --prompt 'The ' --prompt 'A' --temperature 0.9 --top-k 40 --top-p 0.95 --out ";
  const CommandResult first = run_stratum(sample + dir.path() + "/s1.jsonl --seed 5");
  const CommandResult second = run_stratum(sample + dir.path() + "/s2.jsonl --seed 5");
  const CommandResult other = run_stratum(sample + dir.path() + "/s3.jsonl --seed 6");
  ASSERT_EQ(first.exit_code, 0) << first.err;
  ASSERT_EQ(second.exit_code, 0);
  ASSERT_EQ(other.exit_code, 0);
  const auto tokens = [&](const std::string& name) {
    std::vector<nlohmann::json> out;
    for (const auto& r : json_lines(read_file(dir.path() + "/" + name))) out.push_back(r["tokens"]);
    return out;
  };
  EXPECT_EQ(tokens("s1.jsonl"), tokens("s2.jsonl"));
  EXPECT_NE(tokens("s1.jsonl"), tokens("s3.jsonl"));

  // Stop once the text ends with the greedy continuation's first three characters.
  const CommandResult stopped =
      run_stratum(base + " --prompt 'The ' --stop '" + text.substr(0, 3) + "' --out " + dir.path() + "/stop.jsonl");
  ASSERT_EQ(stopped.exit_code, 0) << stopped.err;
  const nlohmann::json stop_row = json_lines(read_file(dir.path() + "/stop.jsonl")).at(0);
  EXPECT_EQ(stop_row["finish"], "stop");
  EXPECT_EQ(stop_row["text"], text.substr(0, 3));
}

TEST(Generate, BadInputExitsTwoNamingTheFlagFileOrModel) {
  TempDir dir;
  const std::string config = std::string(kReferenceGptShape);
  CommandResult r = run_stratum("generate" + config + " --prompt hi --top-p 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--top-p: 0 is not in (0, 1]"));
  r = run_stratum("generate" + config + " --prompt " + std::string(200, 'x'));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--prompt 1: 200 tokens, but the model's context is 128 positions"));
  r = run_stratum("generate --config configs/smoke.yaml --prompt hi");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("stratum generate: model cnn is not a language model (gpt-* models are)"));
  dir.write("prompts.jsonl", "{\"prompt\": \"ok\"}\nnot json\n");
  r = run_stratum("generate" + config + " --prompts " + dir.path() + "/prompts.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(dir.path() + "/prompts.jsonl:2: not a JSON object"));
  dir.write("tokens.jsonl", "{\"tokens\": [1, 999]}\n");
  r = run_stratum("generate" + config + " --prompts " + dir.path() + "/tokens.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("tokens.jsonl:1: token 999 is outside the tokenizer's 257 ids"));
  r = run_stratum("generate" + config + " --prompt hi --weights " + dir.path() + "/missing.safetensors");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--weights: cannot open " + dir.path() + "/missing.safetensors"));
  r = run_stratum("generate --prompt hi");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("give --checkpoint or --config"));
}

}  // namespace
}  // namespace stratum::testing
