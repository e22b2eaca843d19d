#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/metrics_writer.h"
#include "engine/tensorboard_writer.h"
#include "support/temp_dir.h"

namespace stratum {
namespace {

using testing::TempDir;

std::string only_event_file(const std::string& dir) {
  std::string found;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) found = entry.path().string();
  return found;
}

TEST(TensorBoard, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(crc32c("123456789", 9), 0xe3069283u);
  EXPECT_EQ(crc32c("", 0), 0u);
}

TEST(TensorBoard, RecordsAreFramedWithLengthsAndChecksums) {
  TempDir dir;
  {
    TensorBoardWriter writer(dir.path());
    for (int step = 0; step < 3; ++step) writer.scalar("train/loss", 1.0 / (step + 1), step);
  }
  const std::string bytes = testing::read_file(only_event_file(dir.path()));
  const auto masked = [](uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; };
  size_t at = 0, records = 0;
  while (at < bytes.size()) {
    ASSERT_LE(at + 12, bytes.size());
    uint64_t length;
    uint32_t length_crc, data_crc;
    std::memcpy(&length, bytes.data() + at, 8);
    std::memcpy(&length_crc, bytes.data() + at + 8, 4);
    EXPECT_EQ(length_crc, masked(crc32c(bytes.data() + at, 8)));
    ASSERT_LE(at + 12 + length + 4, bytes.size());
    std::memcpy(&data_crc, bytes.data() + at + 12 + length, 4);
    EXPECT_EQ(data_crc, masked(crc32c(bytes.data() + at + 12, length)));
    at += 12 + length + 4;
    ++records;
  }
  EXPECT_EQ(records, 4u);  // the version event and three scalars
  EXPECT_NE(bytes.find("brain.Event:2"), std::string::npos);
}

TEST(TensorBoard, TensorBoardItselfReadsTheScalarsMetricsWriterMirrors) {
  TempDir dir;
  {
    MetricsWriter metrics(dir.path() + "/metrics.jsonl");
    metrics.attach_tensorboard(dir.path() + "/tb");
    for (int step = 1; step <= 3; ++step) metrics.write(MetricRecord{"train", step, {}, {}}.add("loss", 2.0 / step));
    metrics.write(MetricRecord{"eval", 3, {}, {}}.add("split", std::string("validation")).add("accuracy", 0.75));
    metrics.write(MetricRecord{"event", 3, {}, {}}.add("value", 9.0));  // events stay in metrics.jsonl only
  }
  const std::string python = std::string(STRATUM_SOURCE_DIR) + "/.venv/bin/python";
  ASSERT_TRUE(std::filesystem::exists(python)) << "run scripts/setup.sh: the venv holds tensorboard";
  const testing::CommandResult r = testing::run_command("'" + python + "' '" + STRATUM_SOURCE_DIR +
                                                        "/scripts/parity/read_tensorboard.py' '" + dir.path() + "/tb'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto scalars = nlohmann::json::parse(r.out);
  EXPECT_EQ(scalars.size(), 2u) << r.out;
  const auto& loss = scalars.at("train/loss");
  ASSERT_EQ(loss.size(), 3u);
  EXPECT_EQ(loss[1][0].get<int64_t>(), 2);
  EXPECT_NEAR(loss[1][1].get<double>(), 1.0, 1e-6);
  EXPECT_NEAR(scalars.at("eval/validation/accuracy")[0][1].get<double>(), 0.75, 1e-6);
}

}  // namespace
}  // namespace stratum
