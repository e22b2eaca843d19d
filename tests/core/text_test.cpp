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

TEST(Text, Utf8Validation) {
  EXPECT_EQ(invalid_utf8_at("plain ascii"), std::string::npos);
  EXPECT_EQ(invalid_utf8_at("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"), std::string::npos);
  EXPECT_EQ(invalid_utf8_at("ab\xFF"), 2u);
  EXPECT_EQ(invalid_utf8_at("\xC0\xAF"), 0u);          // overlong '/'
  EXPECT_EQ(invalid_utf8_at("x\xED\xA0\x80"), 1u);      // a UTF-16 surrogate
  EXPECT_EQ(invalid_utf8_at("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
  EXPECT_EQ(invalid_utf8_at("ok\xE2\x82"), 2u);         // cut short
}

TEST(Text, PrintableEscapesControlsAndCutsLongText) {
  EXPECT_EQ(printable("name"), "name");
  EXPECT_EQ(printable("a\x1B[2Jb\nc"), "a\\x1B[2Jb\\x0Ac");
  EXPECT_EQ(printable("\xC2\x9B" "31m"), "\\xC2\\x9B31m");  // the 8-bit CSI
  EXPECT_EQ(printable("caf\xC3\xA9\xFF"), "caf\xC3\xA9\\xFF");
  EXPECT_EQ(printable(std::string(1000, 'x'), 10), "xxxxxxxxxx...(1000 bytes)");
}

TEST(Text, ShellQuoteRoundTripsThroughTheShell) {
  EXPECT_EQ(shell_quote({"train", "--config", "configs/a.yaml"}), "train --config configs/a.yaml");
  EXPECT_EQ(shell_quote({"--set", "run.name=it's here"}), "--set 'run.name=it'\\''s here'");
  EXPECT_EQ(shell_quote({""}), "''");
}

}  // namespace
}  // namespace stratum
