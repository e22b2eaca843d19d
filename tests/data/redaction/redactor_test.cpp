// data.redact: every built-in detector finds what it should and leaves look-alikes alone, the
// keyed tokens are stable for one key and differ across keys, JSON records lose named fields and
// every string value's findings (escaped or not), and bad policies are one-line errors.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "core/error.h"
#include "data/redaction/pii_checks.h"
#include "data/redaction/redactor.h"

namespace stratum::data {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

RedactOptions all(RedactAction action) {
  RedactOptions o;
  o.email = o.phone = o.ipv4 = o.ipv6 = o.card = o.iban = action;
  return o;
}

std::string redacted(Redactor& r, std::string text) {
  r.redact_text(text);
  return text;
}

TEST(PiiChecks, LuhnIbanIpv6AndPhoneDigits) {
  EXPECT_TRUE(luhn_valid("4111 1111 1111 1111"));
  EXPECT_TRUE(luhn_valid("5500-0000-0000-0004"));
  EXPECT_TRUE(luhn_valid("378282246310005"));  // American Express, 15 digits
  EXPECT_FALSE(luhn_valid("4111 1111 1111 1112"));
  EXPECT_FALSE(luhn_valid("411111111111"));  // 12 digits: too short for a card
  EXPECT_TRUE(iban_valid("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(iban_valid("DE89370400440532013000"));
  EXPECT_FALSE(iban_valid("DE89370400440532013001"));
  EXPECT_FALSE(iban_valid("GB82 WEST 1234"));
  EXPECT_TRUE(ipv6_valid("2001:db8::1"));
  EXPECT_TRUE(ipv6_valid("::ffff:192.0.2.1"));
  EXPECT_FALSE(ipv6_valid("12:30:45"));
  EXPECT_TRUE(phone_valid("+44 20 7946 0958"));
  EXPECT_FALSE(phone_valid("123-45"));
}

TEST(Redactor, MasksEveryKindAndCountsIt) {
  Redactor r(all(RedactAction::mask));
  const std::string text =
      "mail ana.b+x@mail.example.org or call +1 415 555 2671, (415) 555-2671, +44 20 7946 0958 or 020 7946 0958; "
      "from 192.168.10.42 and 2001:db8:85a3::8a2e:370:7334; card 4111 1111 1111 1111; IBAN DE89 3704 0044 0532 0130 00.";
  const std::string out = redacted(r, text);
  for (const char* value : {"ana.b", "415", "7946", "192.168", "2001:db8", "4111", "DE89", "3704"}) {
    EXPECT_THAT(out, Not(HasSubstr(value))) << out;
  }
  EXPECT_EQ(out,
            "mail [EMAIL] or call [PHONE], [PHONE], [PHONE] or [PHONE]; from [IPV4] and [IPV6]; card [CARD]; IBAN [IBAN].");
  const RedactionCounts& c = r.counts();
  EXPECT_EQ(c.findings.at("email"), 1);
  EXPECT_EQ(c.findings.at("phone"), 4);
  EXPECT_EQ(c.findings.at("ipv4"), 1);
  EXPECT_EQ(c.findings.at("ipv6"), 1);
  EXPECT_EQ(c.findings.at("card"), 1);
  EXPECT_EQ(c.findings.at("iban"), 1);
  EXPECT_EQ(c.records_changed, 1);
}

TEST(Redactor, LeavesLookAlikesAlone) {
  Redactor r(all(RedactAction::mask));
  for (const std::string text :
       {"released 2026-12-02 at 12:30:45", "pi is 3.14159265", "order #123456 shipped", "card 4111 1111 1111 1112 (bad check digit)",
        "code GB82 WEST 1234 5698 7654 33 fails mod 97", "ratio 1:2:3", "version 10.4", "no numbers here at all"}) {
    EXPECT_EQ(redacted(r, text), text);
  }
  EXPECT_EQ(r.counts().records_changed, 0);
}

TEST(Redactor, HashTokensAreStablePerKeyAndHideTheValue) {
  RedactOptions options;
  options.email = RedactAction::hash;
  options.key_env = "STRATUM_TEST_REDACT_KEY";
  ::setenv("STRATUM_TEST_REDACT_KEY", "0123456789abcdef-key-one", 1);
  Redactor first(options), second(options);
  const std::string a = redacted(first, "write to jo.kai@example.com now");
  EXPECT_EQ(a, redacted(second, "write to jo.kai@example.com now"));
  EXPECT_THAT(a, HasSubstr("[EMAIL:"));
  EXPECT_THAT(a, Not(HasSubstr("jo.kai")));
  EXPECT_NE(redacted(first, "jo.kai@example.com"), redacted(first, "jo.kaj@example.com"));
  ::setenv("STRATUM_TEST_REDACT_KEY", "another-key-0123456789", 1);
  Redactor other_key(options);
  EXPECT_NE(redacted(other_key, "write to jo.kai@example.com now"), a);
  ::setenv("STRATUM_TEST_REDACT_KEY", "short", 1);
  EXPECT_THROW(Redactor{options}, UserError);
  ::unsetenv("STRATUM_TEST_REDACT_KEY");
  try {
    Redactor missing(options);
    FAIL() << "no key, yet hash was accepted";
  } catch (const UserError& e) {
    EXPECT_THAT(e.what(), HasSubstr("data.redact.key_env: environment variable STRATUM_TEST_REDACT_KEY is not set"));
  }
}

TEST(Redactor, DropRecordNamesTheDetector) {
  RedactOptions options;
  options.card = RedactAction::drop_record;
  options.email = RedactAction::mask;
  Redactor r(options);
  std::string text = "pay with 4111111111111111, receipt to a@b.io";
  EXPECT_EQ(r.redact_text(text), "card");
  EXPECT_THAT(text, Not(HasSubstr("4111")));  // still redacted, in case it is logged
  std::string clean = "nothing to see";
  EXPECT_EQ(r.redact_text(clean), "");
  EXPECT_EQ(r.counts().records_dropped, 1);
}

TEST(Redactor, JsonFieldsAndEveryStringValue) {
  RedactOptions options;
  options.email = RedactAction::mask;
  options.card = RedactAction::mask;
  options.fields = {"customer.email", "ip"};
  Redactor r(options);
  std::string line =
      R"({"text":"hi, I am a\u0040b.com","ip":"10.0.0.1","customer":{"email":"x@y.org","name":"Jo"},"tags":["c@d.net"],"acct":4111111111111111,"n":7})";
  EXPECT_EQ(r.redact_json(line), "");
  EXPECT_EQ(line, R"({"text":"hi, I am [EMAIL]","customer":{"name":"Jo"},"tags":["[EMAIL]"],"acct":"[CARD]","n":7})");
  EXPECT_EQ(r.counts().findings.at("field:customer.email"), 1);
  EXPECT_EQ(r.counts().findings.at("field:ip"), 1);

  options.field_action = FieldAction::mask;
  Redactor masking(options);
  std::string masked = R"({"ip": "10.0.0.1", "text": "ok"})";
  masking.redact_json(masked);
  EXPECT_EQ(masked, R"({"ip":"[REDACTED]","text":"ok"})");

  // A line no rule touches stays byte for byte (no re-serialization); a broken one is text.
  Redactor plain(all(RedactAction::mask));
  std::string untouched = R"({"text": "fine",   "n": 1.50})";
  plain.redact_json(untouched);
  EXPECT_EQ(untouched, R"({"text": "fine",   "n": 1.50})");
  std::string broken = R"({"text": "mail a@b.io" )";
  plain.redact_json(broken);
  EXPECT_EQ(broken, R"({"text": "mail [EMAIL]" )");
}

TEST(Redactor, PatternsOfYourOwnAndBadPolicies) {
  RedactOptions options;
  options.patterns = {{"ticket_id", "TCK-[0-9]{6}", RedactAction::mask}};
  Redactor r(options);
  EXPECT_EQ(redacted(r, "see TCK-123456 and TCK-12"), "see [TICKET_ID] and TCK-12");

  const auto message = [](RedactOptions o) {
    try {
      Redactor bad(o);
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  RedactOptions bad;
  bad.patterns = {{"ok", "TCK-(", RedactAction::mask}};
  EXPECT_THAT(message(bad), HasSubstr("data.redact.patterns[0].regex: does not compile: missing )"));
  bad.patterns = {{"empty", "x*", RedactAction::mask}};
  EXPECT_THAT(message(bad), HasSubstr("data.redact.patterns[0].regex: matches the empty string"));
  bad.patterns = {{"email", "x+", RedactAction::mask}};
  EXPECT_THAT(message(bad), HasSubstr("data.redact.patterns[0].name: \"email\" is a built-in detector"));
  bad.patterns = {{"a b", "x+", RedactAction::mask}};
  EXPECT_THAT(message(bad), HasSubstr("data.redact.patterns[0].name"));
  bad.patterns = {{"t", "x+", RedactAction::mask}, {"t", "y+", RedactAction::mask}};
  EXPECT_THAT(message(bad), HasSubstr("data.redact.patterns[1].name: \"t\" names an earlier pattern too"));
  bad.patterns = {};
  bad.fields = {"user..email"};
  EXPECT_THAT(message(bad), HasSubstr("data.redact.fields: \"user..email\" is not a field path"));
}

// Hostile input: RE2 matches in linear time, so long runs that would make a backtracking engine
// explode finish, and arbitrary bytes never crash it.
TEST(Redactor, HostileAndRandomInput) {
  Redactor r(all(RedactAction::mask));
  std::string run(200000, 'a');
  run += "@";
  EXPECT_EQ(redacted(r, run), run);
  std::string digits;
  for (int i = 0; i < 20000; ++i) digits += "1 ";
  redacted(r, digits);
  std::mt19937 rng(5);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes(rng() % 200, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() % 256);
    std::string json = "{\"t\":\"" + bytes + "\"}";
    r.redact_text(bytes);
    r.redact_json(json);
  }
}

}  // namespace
}  // namespace stratum::data
