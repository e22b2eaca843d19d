// Every transformer model trains end to end through the binary on a tiny config: the GPT
// language model and the text classifier on fortunes, the ViT on Fashion-MNIST.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "integration/training_run.h"

namespace fs = std::filesystem;

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

TEST(TransformerRuns, GptLearnsTheFortunesCorpusAndReportsPerplexity) {
  TempDir dir;
  const RunResult r = train("configs/gpt-fortunes.yaml", std::string(kSmallText) + " --set trainer.steps=80", dir);
  ASSERT_GE(r.train_losses.size(), 3u);
  EXPECT_LT(r.train_losses.back(), r.train_losses.front() - 1.0);  // from ~ln(257) = 5.5 down
  EXPECT_THAT(r.out, HasSubstr("perplexity"));
  EXPECT_THAT(r.out, HasSubstr("task: language modeling"));
  const auto& validation = r.eval["splits"]["validation"];
  EXPECT_GT(validation["tokens"].get<int64_t>(), 0);
  EXPECT_NEAR(validation["perplexity"].get<double>(), std::exp(validation["loss"].get<double>()), 1e-6);
  EXPECT_LT(validation["perplexity"].get<double>(), 30.0);  // uniform over bytes would be 257
  EXPECT_FALSE(r.eval["splits"]["validation"].contains("confusion_matrix"));

  // Export in Hugging Face's layout, then start a new run from those weights: its first
  // loss is the trained model's, not a fresh one's.
  const std::string exported = dir.path() + "/gpt.safetensors";
  const CommandResult e = run_stratum("export --checkpoint " + r.run_dir + " --out " + exported);
  ASSERT_EQ(e.exit_code, 0) << e.out << e.err;
  EXPECT_THAT(e.out, HasSubstr("layout gpt2"));
  EXPECT_THAT(read_file(exported), HasSubstr("\"transformer.h.1.attn.c_attn.weight\""));
  TempDir again;
  const RunResult resumed = train("configs/gpt-fortunes.yaml",
                                  std::string(kSmallText) + " --set trainer.steps=1 --set model.init_from=" + exported,
                                  again);
  ASSERT_EQ(resumed.train_losses.size(), 1u);
  EXPECT_LT(resumed.train_losses[0], r.train_losses.front() - 1.0);
  EXPECT_THAT(resumed.out, HasSubstr("weights from " + exported));

  const CommandResult wrong = run_stratum("export --checkpoint " + r.run_dir + " --format onnx");
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_THAT(wrong.err, HasSubstr("--format: unknown format \"onnx\""));
}

// logging.sample_every: greedy continuations in metrics.jsonl, the log and the report, without
// changing a single loss (decoding draws no random numbers; dropout is on to show it).
TEST(TransformerRuns, SamplesDuringTrainingLeaveTheLossesAsTheyAre) {
  TempDir plain_dir, sampled_dir;
  const std::string small = std::string(kSmallText) + " --set trainer.steps=10 --set model.dropout=0.1";
  const RunResult plain = train("configs/gpt-fortunes.yaml", small, plain_dir);
  const RunResult sampled = train("configs/gpt-fortunes.yaml",
                                  small + " --set logging.sample_every=5 --set logging.sample_tokens=8"
                                          " --set 'logging.sample_prompts=[\"The \", \"A\"]'",
                                  sampled_dir);
  ASSERT_EQ(plain.train_losses.size(), sampled.train_losses.size());
  for (size_t i = 0; i < plain.train_losses.size(); ++i) EXPECT_EQ(plain.train_losses[i], sampled.train_losses[i]);
  std::vector<std::pair<int64_t, std::string>> samples;
  for (const auto& record : json_lines(read_file(sampled.run_dir + "/metrics.jsonl"))) {
    if (record["kind"] != "sample") continue;
    samples.emplace_back(record["step"].get<int64_t>(), record["prompt"].get<std::string>());
    EXPECT_LE(record["text"].get<std::string>().size(), 8u);  // 8 byte tokens (the padding id decodes to nothing)
  }
  const std::vector<std::pair<int64_t, std::string>> expected = {{5, "The "}, {5, "A"}, {10, "The "}, {10, "A"}};
  EXPECT_EQ(samples, expected);
  EXPECT_THAT(sampled.out, HasSubstr("sample at step 10: The "));
  EXPECT_THAT(read_file(sampled.run_dir + "/report.html"), HasSubstr("<h2>Samples</h2>"));

  const CommandResult cnn = run_stratum("train --config configs/smoke.yaml --set logging.sample_every=5");
  EXPECT_EQ(cnn.exit_code, 2);
  EXPECT_THAT(cnn.err, HasSubstr("logging.sample_every"));
  EXPECT_THAT(cnn.err, HasSubstr("model cnn does not generate text"));
}

TEST(TransformerRuns, GradientCheckpointingTrainsWithExactlyTheSameLosses) {
  TempDir plain_dir, recompute_dir;
  const std::string small = std::string(kSmallText) + " --set trainer.steps=15 --set model.dropout=0.1";
  const RunResult plain = train("configs/gpt-fortunes.yaml", small, plain_dir);
  const RunResult recomputed =
      train("configs/gpt-fortunes.yaml", small + " --set trainer.gradient_checkpointing=true", recompute_dir);
  EXPECT_THAT(recomputed.out, HasSubstr("gradient-checkpointing: recomputing 2 of 2 blocks in backward"));
  ASSERT_EQ(plain.train_losses.size(), recomputed.train_losses.size());
  for (size_t i = 0; i < plain.train_losses.size(); ++i) EXPECT_EQ(plain.train_losses[i], recomputed.train_losses[i]);
  const CommandResult cnn = run_stratum("train --config configs/smoke.yaml --set trainer.gradient_checkpointing=true "
                                        "--set run.output_dir=" + plain_dir.path());
  EXPECT_EQ(cnn.exit_code, 2);
  EXPECT_THAT(cnn.err, HasSubstr("trainer.gradient_checkpointing: model cnn has no transformer blocks to recompute"));
}

TEST(TransformerRuns, TextClassifierTrainsOnFortunesCategories) {
  TempDir dir;
  const RunResult r = train("configs/text-classifier-fortunes.yaml",
                            std::string(kSmallText) + " --set trainer.steps=40 --set trainer.epochs=0", dir);
  ASSERT_GE(r.train_losses.size(), 3u);
  EXPECT_LT(r.train_losses.back(), r.train_losses.front());
  EXPECT_THAT(r.out, HasSubstr("task: classification"));
  EXPECT_TRUE(r.eval["splits"]["validation"].contains("confusion_matrix"));
}

TEST(TransformerRuns, VitTrainsOnFashionMnist) {
  TempDir dir;
  const RunResult r = train("configs/quickstart.yaml",
                            "--set model.name=vit-tiny --set data.max_records=3000 --set model.layers=2 --set model.width=32 --set model.heads=2"
                            " --set model.mlp_hidden=64 --set model.patch_size=7 --set trainer.steps=120"
                            " --set trainer.epochs=0 --set trainer.warmup_steps=5 --set trainer.batch_size=32"
                            " --set eval.every=0 --set eval.max_samples=500 --set logging.every=10",
                            dir);
  ASSERT_GE(r.train_losses.size(), 3u);
  EXPECT_LT(r.train_losses.back(), r.train_losses.front() - 0.5);
  EXPECT_GT(r.eval["splits"]["unseen"]["accuracy"].get<double>(), 0.4);  // chance is 0.1
}

}  // namespace
}  // namespace stratum::testing
