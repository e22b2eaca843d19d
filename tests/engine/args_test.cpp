#include "engine/cli/args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/error.h"
#include "support/user_error.h"

namespace stratum::cli {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  std::string config;
  std::vector<std::string> sets;
  bool verbose = false;
  ArgParser parser{"stratum train", "--config FILE", "Train."};
  Parsed() {
    parser.option("--config", "FILE", "run configuration", &config, true);
    parser.repeated("--set", "KEY=VALUE", "override", &sets);
    parser.flag("--verbose", "more output", &verbose);
  }
};

std::string parse_error(const std::vector<std::string>& args) {
  Parsed p;
  return testing::user_error([&] { p.parser.parse(args); });
}

TEST(ArgParser, ParsesOptionsRepeatedAndFlags) {
  Parsed p;
  ASSERT_TRUE(p.parser.parse({"--config", "a.yaml", "--set", "x=1", "--set=y=2", "--verbose"}));
  EXPECT_EQ(p.config, "a.yaml");
  EXPECT_EQ(p.sets, (std::vector<std::string>{"x=1", "y=2"}));
  EXPECT_TRUE(p.verbose);
}

TEST(ArgParser, HelpIsNotAnError) {
  Parsed p;
  EXPECT_FALSE(p.parser.parse({"--help"}));
  EXPECT_THAT(p.parser.help(), HasSubstr("--config FILE"));
  EXPECT_THAT(p.parser.help(), HasSubstr("(repeatable)"));
}

TEST(ArgParser, Errors) {
  EXPECT_EQ(parse_error({"--confg", "a.yaml"}),
            "stratum train: unknown option --confg (did you mean --config?) (see --help)");
  EXPECT_EQ(parse_error({"--set", "x=1"}), "stratum train: missing required option --config FILE (see --help)");
  EXPECT_EQ(parse_error({"--config"}), "stratum train: --config needs a value (--config FILE)");
  EXPECT_EQ(parse_error({"--config", "a", "--config", "b"}), "stratum train: --config given twice");
  EXPECT_EQ(parse_error({"--config", "a", "stray"}), "stratum train: unexpected argument \"stray\" (see --help)");
  EXPECT_EQ(parse_error({"--config", "a", "--verbose=yes"}), "stratum train: --verbose takes no value");
}

}  // namespace
}  // namespace stratum::cli
