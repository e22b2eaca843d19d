// source: webdataset: samples grouped by key in tar shards, labels from .cls / .txt / .json,
// every bad sample rejected with its reason, a truncated shard costing only its broken tail,
// shards named by ranges, split across stream shards, and Fashion-MNIST exported as shards
// reading back with the IDX source's pixels and labels.

#include "data/sources/webdataset_source.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "core/sha256.h"
#include "core/text.h"
#include "data/images/image_store.h"
#include "data/sources/idx_source.h"
#include "fuzz/fuzz_tally.h"
#include "fuzz/mutator.h"
#include "support/image_files.h"
#include "support/temp_dir.h"
#include "support/user_error.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

// A tar file of `members` (name, bytes), in order, written with libarchive.
std::string write_tar(const TempDir& dir, const std::string& name, const std::vector<std::pair<std::string, std::string>>& members) {
  const std::string path = dir.path() + "/" + name;
  struct archive* a = archive_write_new();
  archive_write_set_format_ustar(a);
  archive_write_open_filename(a, path.c_str());
  for (const auto& [member, bytes] : members) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, member.c_str());
    archive_entry_set_size(e, static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_write_header(a, e);
    archive_write_data(a, bytes.data(), bytes.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

std::string png(int seed) { return testing::encode_png(testing::test_pattern(20, 24, 3, seed), 20, 24, 3); }

DataOptions shard_options(const std::string& path) {
  DataOptions options;
  options.source = "webdataset";
  options.path = path;
  options.image.size = 16;
  options.image.resize = 18;
  options.unseen.by = UnseenBy::none;
  options.validation_fraction = 0;
  options.max_reject_fraction = 0.5;
  options.workers = 1;
  return options;
}

TEST(WebDatasetSource, SamplesGroupByKeyAndBadOnesAreRejectedWithTheirReason) {
  TempDir dir;
  const std::string jpeg = testing::encode_jpeg(testing::test_pattern(20, 24, 3, 9), 20, 24, 3);
  write_tar(dir, "shard-000000.tar",
            {{"a/0001.png", png(1)}, {"a/0001.cls", "2\n"},                              // class 2
             {"a/0002.jpg", jpeg}, {"a/0002.txt", "cat"},                                // class "cat"
             {"0003.webp", testing::encode_webp_lossless(testing::test_pattern(20, 24, 3, 3), 20, 24)},
             {"0003.json", R"({"label": "dog", "extra": 1})"}, {"0003.npy", "ignored member"},
             {"0004.png", png(4)},                                                        // no label
             {"0005.cls", "1"},                                                           // no image
             {"0006.png", "not a png"}, {"0006.cls", "0"},                               // bad image
             {"0007.png", png(7)}, {"0007.cls", "seven"},                                // bad class number
             {"0008.png", png(8)}, {"0008.json", "{\"tag\": 1}"}});                      // json without label
  const std::string second = write_tar(dir, "shard-000001.tar", {{"0009.png", png(9)}, {"0009.cls", "0"},
                                                                {"0010.png", png(10)}, {"0010.cls", "1"}});
  // A third shard cut in the middle of its second sample's image.
  const std::string whole = testing::read_file(write_tar(dir, "whole.tar", {{"0011.png", png(11)}, {"0011.cls", "1"},
                                                                            {"0012.png", png(12)}, {"0012.cls", "0"}}));
  dir.write("shard-000002.tar", whole.substr(0, 2048 + 512 + 512 + 300));
  DataContext context;
  context.rejects_path = dir.path() + "/rejects.jsonl";
  const SplitData data = read_webdataset_source(shard_options(dir.path() + "/shard-{000000..000002}.tar"), context);
  EXPECT_EQ(data.records_accepted, 6);  // 0001-0003, 0009-0011
  EXPECT_EQ(data.records_rejected, 6);
  EXPECT_EQ(data.records_read, data.records_accepted + data.records_rejected);
  // .cls numbers are class ids: "0", "1", "2" first, then names in order of appearance.
  ASSERT_GE(data.spec.class_names.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(data.spec.class_names.begin(), data.spec.class_names.begin() + 3),
            (std::vector<std::string>{"0", "1", "2"}));
  std::map<std::string, std::string> reasons;
  for (const std::string& line : split(testing::read_file(context.rejects_path), '\n')) {
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line);
    const std::string reason = j["reason"];
    reasons[reason.substr(0, reason.find(':'))] = reason;
  }
  EXPECT_EQ(reasons["sample 0004"], "sample 0004: no label member (.cls, .txt or .json)");
  EXPECT_EQ(reasons["sample 0005"], "sample 0005: no image member (.jpg, .jpeg, .png or .webp)");
  EXPECT_EQ(reasons["sample 0006"], "sample 0006: not a JPEG, PNG or WebP image (unknown leading bytes)");
  EXPECT_EQ(reasons["sample 0007"], "sample 0007: the .cls member holds \"seven\", not a class number");
  EXPECT_EQ(reasons["sample 0008"], "sample 0008: the .json member has no \"label\"");
  // The third shard's first sample is whole and kept; the cut header after it costs one record.
  EXPECT_THAT(reasons["damaged or truncated tar data after 1 samples"], HasSubstr("Truncated tar archive"));
  // A shard cut inside a member's body: that sample is rejected, the ones before it kept.
  dir.write("cut-body.tar", whole.substr(0, 512 + 700));
  DataOptions cut = shard_options(dir.path() + "/{shard-000001,cut-body}.tar");
  const SplitData partial = read_webdataset_source(cut, {});
  EXPECT_EQ(partial.records_accepted, 2);
  EXPECT_EQ(partial.records_rejected, 1);

  // Each shard pinned by the sha256 of its bytes, hashed while read.
  const auto manifest = nlohmann::json::parse(data.manifest);
  bool pinned = false;
  for (const auto& f : manifest["files"]) {
    if (f["path"] == second) pinned = f["sha256"] == sha256_hex(testing::read_file(second));
  }
  EXPECT_TRUE(pinned);
}

TEST(WebDatasetSource, RangesMustNameExistingShardsAndStreamShardsSplitThem) {
  TempDir dir;
  for (int s = 0; s < 4; ++s) {
    std::vector<std::pair<std::string, std::string>> members;
    for (int i = 0; i < 5; ++i) {
      const std::string key = std::to_string(s * 10 + i);
      members.push_back({key + ".png", png(s * 10 + i)});
      members.push_back({key + ".cls", std::to_string(i % 2)});
    }
    write_tar(dir, "s-0" + std::to_string(s) + ".tar", members);
  }
  EXPECT_EQ(testing::user_error([&] { read_webdataset_source(shard_options(dir.path() + "/s-{00..04}.tar"), {}); }),
            "data.path: " + dir.path() + "/s-04.tar: no such file");
  DataContext rank0, rank1;
  rank0.world_size = rank1.world_size = 2;
  rank1.rank = 1;
  const SplitData a = read_webdataset_source(shard_options(dir.path() + "/s-{00..03}.tar"), rank0);
  const SplitData b = read_webdataset_source(shard_options(dir.path() + "/s-{00..03}.tar"), rank1);
  EXPECT_EQ(a.records_read, 10);
  EXPECT_EQ(b.records_read, 10);
  std::set<std::string> shards;
  for (const SplitData* d : {&a, &b}) {
    for (const SourceFile& f : d->files) EXPECT_TRUE(shards.insert(f.path).second) << f.path << " read by both ranks";
  }
  EXPECT_EQ(shards.size(), 4u);
  EXPECT_THAT(testing::user_error([&] { read_webdataset_source(shard_options(dir.path() + "/s-{00..03}"), {}); }),
              HasSubstr("no such file"));
  dir.write("not.tar", "hello, this is not a tar file at all");
  EXPECT_THAT(testing::user_error([&] { read_webdataset_source(shard_options(dir.path() + "/not.tar"), {}); }),
              HasSubstr("not.tar"));
}

// Mutated shards (flipped bytes, cuts, duplicated ranges, edited sizes in the headers) read or
// end in a one-line UserError: never a crash, a hang or a huge allocation.
TEST(WebDatasetSource, MutatedShardsReadOrFailCleanly) {
  TempDir dir;
  std::vector<std::pair<std::string, std::string>> members;
  for (int i = 0; i < 3; ++i) {
    members.push_back({std::to_string(i) + ".png", png(i)});
    members.push_back({std::to_string(i) + ".cls", std::to_string(i)});
  }
  const std::string valid = testing::read_file(write_tar(dir, "valid.tar", members));
  testing::Mutator mutator(11, {"0000644", "00000000000", "77777777777", "ustar", ".png", ".cls", std::string(512, '\0')});
  testing::FuzzTally tally("webdataset shard");
  DataOptions options = shard_options(dir.path() + "/mutant.tar");
  options.max_reject_fraction = 1.0;
  options.image.max_file_bytes = 1 << 20;
  for (int i = 0; i < 300; ++i) {
    dir.write("mutant.tar", mutator.mutate(valid));
    tally.run(i, [&] { read_webdataset_source(options, {}); });
  }
}

// The first 500 t10k images as WebDataset shards (PNG + .cls): the IDX source's pixels and labels.
TEST(WebDatasetSource, FashionMnistShardsMatchTheIdxSource) {
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << python << " is missing: run scripts/setup.sh";
  TempDir dir;
  const auto made = testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                         "/scripts/export_fashion_mnist.py' /usr/share/datasets/fashion-mnist '" +
                                         dir.path() + "' 500 tar");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  DataOptions from_idx;
  from_idx.source = "idx";
  from_idx.path = "/usr/share/datasets/fashion-mnist";
  from_idx.max_records = 100;
  const SplitData reference = read_idx_source(from_idx, {});
  const torch::Tensor raw = ((reference.unseen.inputs * reference.spec.input_std[0] + reference.spec.input_mean[0]) * 255)
                                .round()
                                .to(torch::kUInt8);
  DataOptions options = shard_options(dir.path() + "/shard-{000000..000004}.tar");
  options.image.size = 28;
  options.image.resize = 0;
  options.image.channels = 1;
  options.labels = reference.spec.class_names;  // .cls numbers name the IDX classes
  const SplitData data = read_webdataset_source(options, {});
  ASSERT_EQ(data.seen.size(), 500);
  EXPECT_EQ(data.spec.class_names, reference.spec.class_names);
  const auto* store = dynamic_cast<const ImageStore*>(data.seen.store.get());
  ASSERT_NE(store, nullptr);
  for (int64_t i = 0; i < 500; ++i) {
    // origin: (shard in reading order, sample in shard); shard files hold 100 samples each.
    const Provenance origin = data.seen.origins[static_cast<size_t>(i)];
    const std::string shard = std::filesystem::path(data.files[origin.source].path).filename().string();
    const int64_t t10k = std::stoll(shard.substr(6, 6)) * 100 + static_cast<int64_t>(origin.offset);
    ASSERT_EQ(data.seen.targets[i].item<int64_t>(), reference.unseen.targets[t10k].item<int64_t>()) << t10k;
    const Image& kept = store->image(i);
    ASSERT_TRUE(torch::equal(torch::from_blob(const_cast<uint8_t*>(kept.pixels.data()), {1, 28, 28}, torch::kUInt8),
                             raw[t10k]))
        << "t10k image " << t10k;
  }
}

}  // namespace
}  // namespace stratum::data
