// Plugins through the binary: the example plugin's model trains; plugins built for another
// ABI or LibTorch, libraries that are not plugins, and missing files are refused with exit 2.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "integration/stratum_binary.h"

namespace stratum::testing {
namespace {

using ::testing::HasSubstr;

const std::string kLib = std::string(STRATUM_BINARY_DIR) + "/lib/";

TEST(Plugins, ExamplePluginModelTrainsThroughTheFlag) {
  TempDir dir;
  const CommandResult r = run_stratum("train --config configs/smoke.yaml --set model.name=plugin-tiny-cnn --set "
                                      "model.hidden=16 --set trainer.steps=150 --set run.output_dir=" +
                                      dir.path() + " --plugin " + kLib + "libstratum_example_plugin.so");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("plugin example-tiny-cnn loaded from"));
  const std::string prefix = "run directory: ";
  const std::string run_dir = r.out.substr(r.out.rfind(prefix) + prefix.size());
  const auto eval = nlohmann::json::parse(read_file(run_dir.substr(0, run_dir.find('\n')) + "/eval.json"));
  EXPECT_GT(eval["splits"]["unseen"]["accuracy"].get<double>(), 0.4);  // chance is 0.1

  const CommandResult info = run_stratum("info --plugin " + kLib + "libstratum_example_plugin.so");
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_THAT(info.out, HasSubstr("plugin-tiny-cnn"));
}

TEST(Plugins, MismatchedOrBrokenPluginsAreRefusedWithTheLoadersReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {kLib + "libstratum_wrong_abi_plugin.so", "libstratum_wrong_abi_plugin.so: built for plugin ABI "},
      {kLib + "libstratum_wrong_torch_plugin.so", ", but this stratum uses LibTorch "},
      {kLib + "nothere.so", "nothere.so: no such file"},
      {kLib + "libstratum_not_a_plugin.so", "not a Stratum plugin ("},
  };
  for (const auto& [path, message] : cases) {
    const CommandResult r = run_stratum("train --config configs/smoke.yaml --plugin " + path);
    EXPECT_EQ(r.exit_code, 2) << path << r.err;
    EXPECT_THAT(r.err, HasSubstr(message)) << path;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
  }
  TempDir dir;
  const std::string junk = dir.write("junk.so", "not an ELF file");
  const CommandResult r = run_stratum("train --config configs/smoke.yaml --plugin " + junk);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("junk.so: cannot load: "));  // dlerror()'s text follows
}

TEST(Plugins, WorldWritablePluginsOrFoldersAreRefused) {
  TempDir dir;
  const std::string copy = dir.path() + "/plugin.so";
  ASSERT_EQ(run_command("cp " + kLib + "libstratum_example_plugin.so " + copy + " && chmod 0666 " + copy).exit_code, 0);
  CommandResult r = run_stratum("info --plugin " + copy);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("plugin.so: refusing to load a world-writable file"));
  ASSERT_EQ(run_command("chmod 0644 " + copy + " && chmod 0777 " + dir.path()).exit_code, 0);
  r = run_stratum("info --plugin " + copy);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("a world-writable folder without the sticky bit"));
  ASSERT_EQ(run_command("chmod 1777 " + dir.path()).exit_code, 0);  // like /tmp: others cannot swap the file
  r = run_stratum("info --plugin " + copy);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(run_command("chmod 0700 " + dir.path()).exit_code, 0);
}

}  // namespace
}  // namespace stratum::testing
