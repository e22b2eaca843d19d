#include "engine/checkpoint_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "core/error.h"
#include "support/user_error.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

std::string write_checkpoint(const std::string& root, int64_t step, size_t bytes = 1000) {
  CheckpointWriter writer(root, step);
  writer.add_file("model.bin", std::string(bytes, static_cast<char>('a' + step % 26)));
  writer.add_file("sampler.bin", "state " + std::to_string(step));
  return writer.commit();
}

std::string verify_error(const std::string& dir) {
  return testing::user_error([&] { verify_checkpoint(dir); });
}

TEST(CheckpointStore, CommitVerifyAndFindLatest) {
  TempDir root;
  EXPECT_EQ(latest_checkpoint(root.path()), "");
  write_checkpoint(root.path(), 10);
  const std::string dir = write_checkpoint(root.path(), 20);
  EXPECT_EQ(latest_checkpoint(root.path()), dir);
  const CheckpointInfo info = verify_checkpoint(dir);
  EXPECT_EQ(info.step, 20);
  EXPECT_EQ(info.format_version, kCheckpointFormatVersion);
  EXPECT_EQ(info.sha256.size(), 2u);
  EXPECT_EQ(testing::read_file(dir + "/sampler.bin"), "state 20");
}

TEST(CheckpointStore, UncommittedDirectoriesAreNeverLoaded) {
  TempDir root;
  const std::string good = write_checkpoint(root.path(), 5);
  const std::string later = write_checkpoint(root.path(), 6);
  fs::remove(later + "/COMMITTED");
  EXPECT_EQ(latest_checkpoint(root.path()), good);
  EXPECT_THAT(verify_error(later), HasSubstr(later + "/COMMITTED: missing commit marker"));
}

TEST(CheckpointStore, CorruptionFailsClosedNamingTheFile) {
  TempDir root;
  const std::string dir = write_checkpoint(root.path(), 1);
  root.write("step-1/model.bin", "tampered");
  EXPECT_EQ(verify_error(dir), dir + "/model.bin: checksum mismatch (the file is corrupt or was changed)");
  fs::remove(dir + "/model.bin");
  EXPECT_EQ(verify_error(dir), dir + "/model.bin: missing from the checkpoint");
  const std::string other = write_checkpoint(root.path(), 2);
  root.write("step-2/metadata.json", R"({"format_version": 99, "step": 2})");
  EXPECT_THAT(verify_error(other), HasSubstr("unknown checkpoint format version 99 (this build reads version 1)"));
  root.write("step-2/metadata.json", "{truncated");
  EXPECT_THAT(verify_error(other), HasSubstr("metadata.json: corrupt checkpoint metadata"));
}

TEST(CheckpointStore, RotationKeepsTheNewestAndClearsDebris) {
  TempDir root;
  for (int64_t step : {1, 2, 3, 4}) write_checkpoint(root.path(), step);
  fs::create_directory(root.path() + "/.tmp-step-9-123");
  fs::create_directory(root.path() + "/step-8");  // renamed but never committed
  rotate_checkpoints(root.path(), 2);
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(root.path())) left.push_back(e.path().filename().string());
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"step-3", "step-4"}));
}

TEST(CheckpointStore, AKillAtAnyMomentLeavesALoadableCheckpoint) {
  TempDir root;
  write_checkpoint(root.path(), 1);
  for (int trial = 0; trial < 12; ++trial) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // Keep writing ever newer checkpoints until killed.
      for (int64_t step = 100 * (trial + 1);; ++step) write_checkpoint(root.path(), step, 1 << 18);
    }
    usleep(static_cast<useconds_t>(3000 + 4000 * trial));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    const std::string latest = latest_checkpoint(root.path());
    ASSERT_NE(latest, "");
    EXPECT_EQ(verify_error(latest), "") << "trial " << trial;
  }
  rotate_checkpoints(root.path(), 2);
  for (const auto& e : fs::directory_iterator(root.path())) {
    EXPECT_EQ(verify_error(e.path().string()), "") << e.path();
  }
}

}  // namespace
}  // namespace stratum
