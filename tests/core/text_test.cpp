#include "core/text.h"

#include <gtest/gtest.h>

namespace stratum {
namespace {

TEST(Text, EditDistanceAndNearest) {
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(nearest("trainr", {"run", "trainer", "data"}), "trainer");
  EXPECT_EQ(nearest("zzzzzzzz", {"run", "trainer"}), "");
}

TEST(Text, SplitJoinAndFormatting) {
  EXPECT_EQ(split("a.b..c", '.'), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(join({"a", "b"}, ", "), "a, b");
  EXPECT_EQ(format_number(0.001), "0.001");
  EXPECT_EQ(format_duration(12.34), "12.3s");
  EXPECT_EQ(format_duration(185), "3m05s");
  EXPECT_EQ(format_duration(3720), "1h02m");
}

}  // namespace
}  // namespace stratum
