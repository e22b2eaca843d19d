// `stratum eval --task multiple_choice`: each ending's log-likelihood equals transformers' on the
// same random GPT-2 (HellaSwag-format fixture), accuracy follows from the picks with a bootstrap
// interval around it, and malformed items are refused naming file:line.

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
const std::string kItems = std::string(STRATUM_SOURCE_DIR) + "/tests/data/multiple_choice/hellaswag_format.jsonl";

TEST(MultipleChoice, EndingScoresEqualTransformersAndAccuracyFollowsFromThePicks) {
  ASSERT_TRUE(fs::exists(kPython)) << kPython << " is missing: run scripts/setup.sh";
  TempDir dir;
  const CommandResult made = run_command("'" + kPython + "' '" + STRATUM_SOURCE_DIR +
                                         "/scripts/parity/reference_models.py' score " + dir.path() + " " + kItems + " 2>&1");
  ASSERT_EQ(made.exit_code, 0) << made.out;
  const CommandResult r = run_stratum("eval --task multiple_choice" + std::string(kReferenceGptShape) + " --weights " + dir.path() +
                                      "/weights.safetensors --data " + kItems + " --out " + dir.path() +
                                      "/mc.json --items " + dir.path() + "/items.jsonl");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("multiple choice: 8 items from " + kItems));
  const auto expected = json_lines(read_file(dir.path() + "/expected.jsonl"));
  const auto items = json_lines(read_file(dir.path() + "/items.jsonl"));
  ASSERT_EQ(items.size(), 8u);
  ASSERT_EQ(expected.size(), 8u);
  int correct = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& got = items[i]["sum_log_likelihood"];
    const auto& want = expected[i]["sum_log_likelihood"];
    ASSERT_EQ(got.size(), want.size());
    size_t best = 0;
    for (size_t e = 0; e < got.size(); ++e) {
      EXPECT_NEAR(got[e].get<double>(), want[e].get<double>(), 1e-4) << "item " << i << " ending " << e;
      if (got[e].get<double>() > got[best].get<double>()) best = e;
    }
    EXPECT_EQ(items[i]["pick"], best);
    correct += items[i]["pick"] == items[i]["gold"];
  }
  EXPECT_EQ(items[1]["gold"], 1);  // "label": "1" (HellaSwag's files hold strings)
  const nlohmann::json summary = nlohmann::json::parse(read_file(dir.path() + "/mc.json"));
  EXPECT_EQ(summary["items"], 8);
  EXPECT_DOUBLE_EQ(summary["accuracy"].get<double>(), correct / 8.0);
  EXPECT_LE(summary["accuracy_ci95"][0].get<double>(), summary["accuracy"].get<double>());
  EXPECT_GE(summary["accuracy_ci95"][1].get<double>(), summary["accuracy"].get<double>());
}

TEST(MultipleChoice, MalformedItemsAndFlagsExitTwoNamingThem) {
  TempDir dir;
  const std::string base = "eval --task multiple_choice" + std::string(kReferenceGptShape);
  dir.write("bad.jsonl", "{\"ctx\": \"a\", \"endings\": [\"b\", \"c\"], \"label\": 0}\n{\"ctx\": \"a\", \"endings\": [\"b\"], \"label\": 0}\n");
  CommandResult r = run_stratum(base + " --data " + dir.path() + "/bad.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr(dir.path() + "/bad.jsonl:2: needs \"endings\": an array of at least two strings"));
  dir.write("label.jsonl", "{\"ctx\": \"a\", \"endings\": [\"b\", \"c\"], \"label\": 2}\n");
  r = run_stratum(base + " --data " + dir.path() + "/label.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("label.jsonl:1: \"label\" (or \"gold\") must be the index of one of its 2 endings"));
  r = run_stratum(base);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--task multiple_choice needs --data FILE.jsonl"));
  r = run_stratum("eval --task translation --config configs/smoke.yaml --checkpoint x");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--task: unknown task \"translation\" (splits or multiple_choice)"));
  r = run_stratum("eval --task multiple_choice --config configs/smoke.yaml --data " + kItems);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("model cnn is not a language model"));
}

}  // namespace
}  // namespace stratum::testing
