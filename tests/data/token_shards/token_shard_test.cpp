// The token shard format: what is written reads back, every kind of damage is a one-line
// error naming the file, and reading a shard does not make a process's memory grow with it.

#include "data/token_shards/token_shard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <numeric>

#include "data/loader.h"
#include "data/token_shards/token_windows.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
using testing::user_error;

// Writes documents of ids (each already ending with the end-of-text id) as one shard.
std::string write_shard(const std::string& path, const std::vector<std::vector<int32_t>>& documents, uint64_t vocab) {
  TokenShardWriter writer(path, vocab);
  for (const auto& d : documents) writer.add_document(d);
  writer.finish();
  return path;
}

std::vector<int64_t> read_all(const TokenShard& shard) {
  std::vector<int64_t> out(shard.tokens());
  shard.copy_tokens(0, shard.tokens(), out.data());
  return out;
}

TEST(TokenShard, WhatIsWrittenReadsBackInBothTokenWidths) {
  TempDir dir;
  for (const uint64_t vocab : {uint64_t{300}, uint64_t{70000}}) {
    const int32_t big = static_cast<int32_t>(vocab - 1);
    const std::string path = write_shard(dir.path() + "/s" + std::to_string(vocab) + ".bin",
                                         {{1, 2, big}, {7, big}, {255, 256, 3, 4, big}}, vocab);
    const TokenShard shard(path);
    EXPECT_EQ(shard.token_bytes(), vocab <= 65536 ? 2 : 4);
    EXPECT_EQ(shard.vocab_size(), vocab);
    EXPECT_EQ(shard.tokens(), 10u);
    EXPECT_EQ(shard.documents(), 3u);
    EXPECT_EQ(read_all(shard), (std::vector<int64_t>{1, 2, big, 7, big, 255, 256, 3, 4, big}));
    EXPECT_EQ(shard.document_start(1), 3u);
    EXPECT_EQ(shard.document_start(3), 10u);
    const std::vector<uint64_t> owners = {0, 0, 0, 1, 1, 2, 2, 2, 2, 2};
    for (uint64_t t = 0; t < 10; ++t) EXPECT_EQ(shard.document_of(t), owners[t]) << t;
    std::vector<int64_t> middle(4);
    shard.copy_tokens(4, 4, middle.data());
    EXPECT_EQ(middle, (std::vector<int64_t>{big, 255, 256, 3}));
    EXPECT_EQ(std::ifstream(path).good(), true);
    EXPECT_FALSE(std::ifstream(path + ".tmp").good());  // renamed into place
  }
}

std::string bytes_of(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void put(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

TEST(TokenShard, DamagedFilesAreOneLineErrorsNamingTheFile) {
  TempDir dir;
  const std::string good = bytes_of(write_shard(dir.path() + "/good.bin", {{1, 2, 299}, {5, 299}}, 300));
  const std::string path = dir.path() + "/bad.bin";
  const auto error_for = [&](std::string bytes) {
    put(path, bytes);
    return user_error([&] { TokenShard shard(path); });
  };
  std::string wrong_magic = good;
  wrong_magic[0] = 'X';
  EXPECT_EQ(error_for(wrong_magic), path + ": not a Stratum token shard: wrong magic (expected STRTOKSH)");
  std::string version = good;
  version[8] = 9;
  EXPECT_THAT(error_for(version), HasSubstr("format version 9, this Stratum reads version 1"));
  EXPECT_THAT(error_for(good.substr(0, good.size() - 3)), HasSubstr("(truncated or extended)"));
  EXPECT_THAT(error_for(good + "x"), HasSubstr("(truncated or extended)"));
  EXPECT_THAT(error_for(good.substr(0, 20)), HasSubstr("shorter than its 64-byte header"));
  EXPECT_THAT(error_for(""), HasSubstr("shorter than its 64-byte header"));
  std::string width = good;
  width[12] = 3;
  EXPECT_THAT(error_for(width), HasSubstr("3 bytes per token"));
  std::string counts = good;
  counts[31] = 0x7f;  // token count near 2^63
  EXPECT_THAT(error_for(counts), HasSubstr("counts larger than the file"));
  std::string index = good;
  index[good.size() - 16] = 9;  // the second document starts after the end
  EXPECT_THAT(error_for(index), HasSubstr("document index"));
  EXPECT_THAT(user_error([&] { TokenShard shard(dir.path() + "/missing.bin"); }),
              HasSubstr(dir.path() + "/missing.bin: cannot open token shard"));

  // A token id outside the vocabulary is found when it is read.
  std::string body = good;
  body[64] = static_cast<char>(0xff), body[65] = static_cast<char>(0xff);
  put(path, body);
  const TokenShard shard(path);
  std::vector<int64_t> out(5);
  EXPECT_EQ(user_error([&] { shard.copy_tokens(0, 5, out.data()); }),
            path + ": token id 65535 near token 0 is outside the shard's vocabulary of 300 (corrupt body)");
}

std::vector<std::shared_ptr<const TokenShard>> two_shards(const TempDir& dir, std::vector<int64_t>& stream) {
  // Documents of 4..12 tokens (ids 1..250, then the end-of-text id 256), over two shards.
  std::vector<std::vector<int32_t>> first, second;
  for (int d = 0; d < 30; ++d) {
    std::vector<int32_t> doc;
    for (int i = 0; i < 3 + (d * 7) % 10; ++i) doc.push_back(1 + (d * 31 + i * 17) % 250);
    doc.push_back(256);
    (d < 13 ? first : second).push_back(doc);
    stream.insert(stream.end(), doc.begin(), doc.end());
  }
  return {std::make_shared<const TokenShard>(write_shard(dir.path() + "/a.bin", first, 257)),
          std::make_shared<const TokenShard>(write_shard(dir.path() + "/b.bin", second, 257))};
}

// Window i is stream tokens [i·T, i·T + T]: inputs its first T, targets its last T, across
// shard boundaries; every stream token but the first and the unused tail is predicted once.
TEST(TokenWindows, ContiguousWindowsCoverTheStreamAcrossShards) {
  TempDir dir;
  std::vector<int64_t> stream;
  const TokenWindows windows(two_shards(dir, stream), 16, Pack::contiguous);
  const int64_t n = static_cast<int64_t>(stream.size());
  EXPECT_EQ(windows.stream_tokens(), static_cast<uint64_t>(n));
  EXPECT_EQ(windows.size(), (n - 1) / 16);
  EXPECT_EQ(windows.unused_tokens(), static_cast<uint64_t>(n - 1 - windows.size() * 16));
  const Batch batch = windows.gather(torch::arange(windows.size(), torch::kInt64));
  EXPECT_FALSE(batch.segments.defined());
  const torch::Tensor expected = torch::tensor(stream);
  for (int64_t i = 0; i < windows.size(); ++i) {
    EXPECT_TRUE(batch.inputs[i].equal(expected.narrow(0, i * 16, 16))) << i;
    EXPECT_TRUE(batch.targets[i].equal(expected.narrow(0, i * 16 + 1, 16))) << i;
  }
}

// Documents packing numbers each row's documents from 0 and never scores a prediction of the
// next document's first token.
TEST(TokenWindows, DocumentPackingNumbersDocumentsAndMasksTargetsThatCrossABoundary) {
  TempDir dir;
  std::vector<int64_t> stream;
  const TokenWindows windows(two_shards(dir, stream), 16, Pack::documents);
  std::vector<int64_t> document_of;
  for (size_t t = 0, d = 0; t < stream.size(); ++t) {
    document_of.push_back(static_cast<int64_t>(d));
    if (stream[t] == 256) ++d;
  }
  const Batch batch = windows.gather(torch::arange(windows.size(), torch::kInt64));
  ASSERT_TRUE(batch.segments.defined());
  int64_t masked = 0;
  for (int64_t i = 0; i < windows.size(); ++i) {
    for (int64_t k = 0; k < 16; ++k) {
      const size_t at = static_cast<size_t>(i * 16 + k);
      EXPECT_EQ(batch.segments[i][k].item<int64_t>(), document_of[at] - document_of[static_cast<size_t>(i * 16)]);
      const bool crosses = document_of[at + 1] != document_of[at];
      EXPECT_EQ(batch.targets[i][k].item<int64_t>(), crosses ? -100 : stream[at + 1]);
      masked += crosses;
      if (crosses) {
        EXPECT_EQ(stream[at], 256);  // only an end-of-text token predicts across
      }
    }
  }
  EXPECT_GT(masked, 20);
}

// Replicas of a sharded stream read disjoint windows that together are every window; a
// loader's shards of each global batch are disjoint as well.
TEST(TokenWindows, ReplicasReadDisjointWindows) {
  TempDir dir;
  std::vector<int64_t> stream;
  const auto shards = two_shards(dir, stream);
  const TokenWindows whole(shards, 8, Pack::contiguous);
  std::multiset<std::vector<int64_t>> seen;
  int64_t total = 0;
  for (int64_t rank = 0; rank < 3; ++rank) {
    const TokenWindows mine(shards, 8, Pack::contiguous, rank, 3);
    total += mine.size();
    const Batch b = mine.gather(torch::arange(mine.size(), torch::kInt64));
    for (int64_t i = 0; i < mine.size(); ++i) {
      seen.insert(std::vector<int64_t>(b.inputs[i].data_ptr<int64_t>(), b.inputs[i].data_ptr<int64_t>() + 8));
      EXPECT_TRUE(b.inputs[i].equal(whole.gather(torch::tensor({rank + 3 * i})).inputs[0]));
    }
  }
  EXPECT_EQ(total, whole.size());

  TensorDataset dataset;
  dataset.store = std::make_shared<const TokenWindows>(shards, 8, Pack::contiguous);
  Loader a(dataset, {8, 5, 0, 0, 0, 2}), b(dataset, {8, 5, 0, 0, 1, 2});
  for (int step = 0; step < 6; ++step) {
    const Batch x = a.next(), y = b.next();
    for (int64_t i = 0; i < x.size(); ++i) {
      for (int64_t j = 0; j < y.size(); ++j) EXPECT_FALSE(x.inputs[i].equal(y.inputs[j]));
    }
  }
}

// Resident pages of memory-mapped files (the shard's, the libraries'): what a map that kept
// its pages would grow. Batches themselves are ordinary allocations, the same size whatever
// the corpus.
int64_t resident_file_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  int64_t kb = 0;
  while (status >> key) {
    if (key == "RssFile:") {
      status >> kb;
      return kb * 1024;
    }
  }
  return 0;
}

// Reading every window of a 64 MiB shard leaves the process's resident mapped pages within
// 8 MiB of where they started: pages are handed back as they are read. (A plain memory map
// keeps all 64 MiB resident; releasing page by page keeps most of it too, as the kernel maps
// a fault's neighbours back in.)
TEST(TokenWindows, ReadingAWholeShardKeepsResidentMemoryBounded) {
  TempDir dir;
  const std::string path = dir.path() + "/big.bin";
  {
    TokenShardWriter writer(path, 50257);
    std::vector<int32_t> document(1 << 20);
    for (size_t i = 0; i < document.size(); ++i) document[i] = static_cast<int32_t>((i * 2654435761u) % 50256);
    document.back() = 50256;
    for (int d = 0; d < 32; ++d) writer.add_document(document);  // 32 Mi tokens: 64 MiB
    writer.finish();
  }
  const auto shard = std::make_shared<const TokenShard>(path);
  const TokenWindows windows({shard}, 1024, Pack::documents);
  const int64_t before = resident_file_bytes();
  int64_t peak = before, checksum = 0;
  for (int64_t begin = 0; begin < windows.size(); begin += 256) {
    const Batch batch = windows.gather(torch::arange(begin, std::min(windows.size(), begin + 256), torch::kInt64));
    checksum += batch.inputs[0][0].item<int64_t>();
    peak = std::max(peak, resident_file_bytes());
  }
  EXPECT_GT(checksum, 0);
  EXPECT_LT(peak - before, int64_t{8} << 20) << "resident mapped pages grew by " << (peak - before) / (1 << 20) << " MiB";

}

}  // namespace
}  // namespace stratum::data
