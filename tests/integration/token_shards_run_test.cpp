// Language models out of core: `stratum data prepare` writes token shards, `stratum train`
// reads them through memory maps, resumes mid-shard exactly, and its memory does not grow
// with the corpus.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "integration/stratum_binary.h"
#include "integration/training_run.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

// Prepares the first `records` fortunes into `dir`/shards in shards of `shard_tokens`.
std::string prepare_fortunes(const TempDir& dir, int records, int shard_tokens) {
  const std::string out = dir.path() + "/shards";
  const CommandResult r = run_stratum("data prepare --config configs/gpt-fortunes.yaml --set data.max_records=" +
                                      std::to_string(records) + " --out " + out + " --workers 2 --shard-tokens " +
                                      std::to_string(shard_tokens));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("records read " + std::to_string(records)));
  return out;
}

const char* const kSmallShards =
    " --set model.layers=2 --set model.width=32 --set model.heads=2 --set model.mlp_hidden=64 --set model.dropout=0.1"
    " --set data.text.max_length=48 --set trainer.batch_size=8 --set trainer.warmup_steps=5"
    " --set eval.every=0 --set eval.max_samples=64 --set logging.every=5 --set trainer.checkpoint.best_metric=";

TEST(TokenShardRuns, PrepareTrainAndResumeMidShardWithTheSameLosses) {
  TempDir dir;
  const std::string shards = prepare_fortunes(dir, 2000, 20000);
  const std::string args = std::string(kSmallShards) + " --set data.path=" + shards +
                           " --set trainer.steps=30 --set trainer.checkpoint.every=10 --set trainer.checkpoint.keep_last=5";
  const RunResult full = train("configs/gpt-fortunes-shards.yaml", args, dir);
  ASSERT_FALSE(full.run_dir.empty());
  ASSERT_GE(full.train_losses.size(), 5u);
  EXPECT_LT(full.train_losses.back(), full.train_losses.front() - 0.5);  // learning, from ~ln(257)
  const auto& validation = full.eval["splits"]["validation"];
  // 64 windows of 48 predictions, less those that would cross a document boundary.
  EXPECT_LT(validation["tokens"].get<int64_t>(), 64 * 48);
  EXPECT_GT(validation["tokens"].get<int64_t>(), 64 * 40);
  const auto manifest = nlohmann::json::parse(read_file(full.run_dir + "/manifest.json"));
  EXPECT_EQ(manifest["token_shards"]["padding_share"], 0.0);
  EXPECT_EQ(manifest["token_shards"]["pack"], "documents");
  EXPECT_GT(manifest["files"].size(), 3u);  // several seen shards, each with its sha256

  // Step 10's checkpoint sits in the middle of a shard; the resumed run continues with the
  // same windows in the same order and the same dropout masks.
  TempDir again;
  const CommandResult resumed =
      run_stratum("train --config configs/gpt-fortunes-shards.yaml --set run.output_dir=" + again.path() +
                  " --set trainer.threads=2 " + args + " --resume " + full.run_dir + "/checkpoints/step-10");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const auto expected = logged_losses(full.run_dir), got = logged_losses(run_directory(resumed));
  ASSERT_EQ(got.begin()->first, 15);
  for (const auto& [step, loss] : got) EXPECT_EQ(loss, expected.at(step)) << "step " << step;

  // Contiguous packing trains too (and differs: the same windows, other masks).
  TempDir contiguous;
  const RunResult c = train("configs/gpt-fortunes-shards.yaml", args + " --set data.pack=contiguous", contiguous);
  EXPECT_EQ(c.eval["splits"]["validation"]["tokens"].get<int64_t>(), 64 * 48);
}

TEST(TokenShardRuns, DamagedShardsAndMismatchesExitTwoNamingTheFileOrKey) {
  TempDir dir;
  const std::string shards = prepare_fortunes(dir, 300, 1000000);
  const std::string train_args = "train --config configs/gpt-fortunes-shards.yaml --set run.output_dir=" + dir.path() +
                                 "/runs --set trainer.steps=1 --set data.path=" + shards;
  CommandResult r = run_stratum("data inspect --config configs/gpt-fortunes-shards.yaml --set data.path=" + shards);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("windows of 128 tokens (+1 target), packing documents, tokenizer bytes (257 ids)"));
  r = run_stratum("data prepare --config configs/gpt-fortunes.yaml --set data.max_records=300 --per-label 5 --out " +
                  dir.path() + "/sampled");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto sampled = nlohmann::json::parse(read_file(dir.path() + "/sampled/shards.json"));
  for (const auto& [label, documents] : sampled["splits"]["seen"]["labels"].items()) {
    EXPECT_LE(documents.get<int64_t>(), 5) << label;
    EXPECT_GE(sampled["splits"]["seen"]["offered"][label].get<int64_t>(), documents.get<int64_t>()) << label;
  }
  r = run_stratum(train_args + " --set model.name=text-classifier");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("model.name: text-classifier needs a labeled (classification) data source"));
  const std::string seen = shards + "/seen-00000.bin";
  std::filesystem::resize_file(seen, std::filesystem::file_size(seen) - 5);
  r = run_stratum(train_args);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(seen + ": not a Stratum token shard: "));
  EXPECT_THAT(r.err, HasSubstr("(truncated or extended)"));
  EXPECT_EQ(count_lines(r.err), 1) << r.err;

  r = run_stratum("train --config configs/gpt-fortunes.yaml --set data.pack=documents --set trainer.steps=1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("data.pack: documents packs the windows of token shards"));
  r = run_stratum("data prepare --config configs/gpt-fortunes.yaml --out " + shards + " --workers 0");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--workers"));
}

int64_t peak_rss(const RunResult& r) { return r.eval["model"]["peak_rss_bytes"].get<int64_t>(); }

// The trainer's peak memory on a corpus whose shards are 96 MiB is within 24 MiB of its peak
// on a corpus of 1 MiB: shards are read a window at a time and their pages handed back, so
// nothing grows with the corpus but the loader's order (8 bytes a window).
TEST(TokenShardRuns, PeakMemoryDoesNotGrowWithTheCorpus) {
  TempDir dir;
  const auto corpus = [&](const std::string& name, int64_t bytes) {
    std::ofstream out(dir.path() + "/" + name);
    std::string line;
    for (int64_t written = 0, i = 0; written < bytes; ++i) {
      line = "line " + std::to_string(i * 7919 % 100003) + " of a corpus that does not fit the memory limit\n";
      out << line;
      written += static_cast<int64_t>(line.size());
    }
    return dir.path() + "/" + name;
  };
  const auto prepared = [&](const std::string& text, const std::string& out) {
    const CommandResult r = run_stratum("data prepare --config configs/gpt-fortunes.yaml --set data.source=text"
                                        " --set data.text.format=plain --set data.path=" + text +
                                        " --set data.validation_fraction=0.001 --out " + out);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return out;
  };
  const std::string small = prepared(corpus("small.txt", int64_t{1} << 19), dir.path() + "/small");
  const std::string large = prepared(corpus("large.txt", int64_t{48} << 20), dir.path() + "/large");
  const std::string args = std::string(kSmallShards) + " --set trainer.steps=20 --set data.pack=contiguous";
  TempDir a, b;
  const RunResult on_small = train("configs/gpt-fortunes-shards.yaml", args + " --set data.path=" + small, a);
  const RunResult on_large = train("configs/gpt-fortunes-shards.yaml", args + " --set data.path=" + large, b);
  const int64_t grown = peak_rss(on_large) - peak_rss(on_small);
  EXPECT_LT(grown, int64_t{24} << 20) << "peak RSS grew by " << grown / (1 << 20) << " MiB on 96 MiB of shards";
  int64_t shard_bytes = 0;
  for (const auto& entry : std::filesystem::directory_iterator(large)) {
    if (entry.path().extension() == ".bin") shard_bytes += static_cast<int64_t>(entry.file_size());
  }
  EXPECT_GT(shard_bytes, int64_t{96} << 20);
}

}  // namespace
}  // namespace stratum::testing
