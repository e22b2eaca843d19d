#include "data/sources/idx_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "support/user_error.h"
#include "data/idx_fixtures.h"
#include "support/temp_dir.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::string read_error(const std::string& path) {
  return testing::user_error([&] { read_idx(path); });
}

TEST(IdxFile, ReadsRawAndGzip) {
  TempDir dir;
  const std::string bytes = testing::idx_bytes({3, 2, 2});
  const std::string raw = dir.write("a-idx3-ubyte", bytes);
  const std::string gz = dir.path() + "/a-idx3-ubyte.gz";
  testing::write_gzip(gz, bytes);
  for (const auto& path : {raw, gz}) {
    const IdxArray a = read_idx(path);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{3, 2, 2}));
    ASSERT_EQ(a.values.size(), 12u);
    EXPECT_EQ(a.values[11], 11);
  }
}

TEST(IdxFile, TruncatedBodyNamesFileAndOffset) {
  TempDir dir;
  const std::string bytes = testing::idx_bytes({3, 2, 2});
  const std::string path = dir.write("t", bytes.substr(0, bytes.size() - 5));
  EXPECT_EQ(read_error(path), path + ": truncated IDX file: expected 12 data bytes from byte 16, found 7");
  const std::string header_only = dir.write("h", bytes.substr(0, 9));
  EXPECT_THAT(read_error(header_only), HasSubstr("truncated IDX header at byte 8"));
}

TEST(IdxFile, WrongMagicAndType) {
  TempDir dir;
  std::string bytes = testing::idx_bytes({2, 2});
  bytes[0] = 'P';
  const std::string magic = dir.write("m", bytes);
  EXPECT_EQ(read_error(magic), magic + ": not an IDX file: wrong magic number (expected 00 00 08 NN) at byte 0");
  bytes = testing::idx_bytes({2, 2});
  bytes[2] = 0x0D;  // float32
  EXPECT_THAT(read_error(dir.write("f", bytes)), HasSubstr("unsupported IDX element type"));
}

TEST(IdxFile, TrailingDataAndImplausibleSizes) {
  TempDir dir;
  EXPECT_THAT(read_error(dir.write("x", testing::idx_bytes({2, 2}) + "junk")),
              HasSubstr("longer than its header says: extra data at byte 16"));
  std::string huge = testing::idx_bytes({1, 1});
  huge[4] = huge[5] = huge[6] = huge[7] = static_cast<char>(0xFF);  // 4 billion rows
  huge[8] = huge[9] = huge[10] = huge[11] = static_cast<char>(0xFF);
  EXPECT_THAT(read_error(dir.write("huge", huge)), HasSubstr("implausible IDX dimension"));
}

TEST(IdxFile, BadGzipStream) {
  TempDir dir;
  const std::string path = dir.path() + "/c.gz";
  testing::write_gzip(path, testing::idx_bytes({64, 64, 4}));
  std::string compressed = testing::read_file(path);
  for (size_t i = 20; i < compressed.size() - 10; i += 7) compressed[i] = static_cast<char>(compressed[i] ^ 0x5A);
  dir.write("c.gz", compressed);
  EXPECT_THAT(read_error(path), HasSubstr(path + ": bad gzip stream near byte"));
}

TEST(IdxFile, MissingFile) {
  TempDir dir;
  EXPECT_EQ(read_error(dir.path() + "/none"), dir.path() + "/none: cannot open: No such file or directory");
}

}  // namespace
}  // namespace stratum::data
