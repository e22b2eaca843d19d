#include "engine/run_dir.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "core/error.h"
#include "support/temp_dir.h"

namespace fs = std::filesystem;

namespace stratum {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;

TEST(RunDir, CreatesNamedTimestampedFolderUnderRoot) {
  TempDir root;
  const RunDir run = RunDir::create(root.path() + "/runs", "quick", "20260101-120000");
  EXPECT_EQ(run.path(), fs::canonical(root.path()).string() + "/runs/quick-20260101-120000");
  EXPECT_TRUE(fs::is_directory(run.path()));
  EXPECT_TRUE(fs::is_empty(run.path()));
}

TEST(RunDir, NeverReusesAnExistingRun) {
  TempDir root;
  const RunDir first = RunDir::create(root.path(), "r", "t");
  first.write_file("eval.json", "{}");
  const RunDir second = RunDir::create(root.path(), "r", "t");
  EXPECT_NE(first.path(), second.path());
  EXPECT_EQ(testing::read_file(first.file("eval.json")), "{}");
  EXPECT_TRUE(fs::is_empty(second.path()));
}

TEST(RunDir, DoesNotFollowAPlantedSymlink) {
  TempDir root, elsewhere;
  fs::create_directory_symlink(elsewhere.path(), root.path() + "/r-t");
  const RunDir run = RunDir::create(root.path(), "r", "t");
  EXPECT_EQ(fs::path(run.path()).filename(), "r-t-2");
  EXPECT_TRUE(fs::is_empty(elsewhere.path()));
}

TEST(RunDir, RefusesNamesThatEscapeTheRoot) {
  TempDir root;
  for (const std::string name : {"../evil", "a/b", "..", ".", "", "/abs", "sp ace", "tab\t"}) {
    try {
      RunDir::create(root.path(), name, "t");
      ADD_FAILURE() << "accepted run name \"" << name << "\"";
    } catch (const UserError& e) {
      EXPECT_THAT(e.what(), HasSubstr("run.name"));
    }
  }
  EXPECT_TRUE(fs::is_empty(root.path()));
}

TEST(RunDir, AtomicWriteReplacesWholeFile) {
  TempDir root;
  const RunDir run = RunDir::create(root.path(), "r", "t");
  run.write_file("a.txt", "first version, longer");
  run.write_file("a.txt", "second");
  EXPECT_EQ(testing::read_file(run.file("a.txt")), "second");
  EXPECT_FALSE(fs::exists(run.file("a.txt.tmp")));
}

}  // namespace
}  // namespace stratum
