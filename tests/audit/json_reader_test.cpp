// The JSON reader the audit command parses log lines with.
#include "util/json_reader.hpp"

#include <gtest/gtest.h>

#include <string>

using rf::json::parse;
using rf::json::Value;

namespace {

Value parsed(std::string_view text) {
  auto r = parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : Value{};
}

bool rejected(std::string_view text) { return !parse(text).ok(); }

} // namespace

TEST(JsonReader, FlatObjectWithEveryKindOfValue) {
  Value v = parsed(R"( {"s":"text","n":-12,"f":1.5e3,"t":true,"no":false,"z":null,)"
                   R"("a":["x",1],"o":{"bytes":3}} )");
  ASSERT_TRUE(v.is_object());
  EXPECT_EQ(v.find("s")->text, "text");
  EXPECT_EQ(v.find("n")->as_integer(), -12);
  EXPECT_EQ(v.find("f")->text, "1.5e3");
  EXPECT_FALSE(v.find("f")->as_integer());
  EXPECT_TRUE(v.find("t")->boolean);
  EXPECT_EQ(v.find("no")->kind, Value::Kind::boolean);
  EXPECT_FALSE(v.find("no")->boolean);
  EXPECT_EQ(v.find("z")->kind, Value::Kind::null);
  ASSERT_EQ(v.find("a")->items.size(), 2u);
  EXPECT_EQ(v.find("a")->items[0].text, "x");
  EXPECT_EQ(v.find("o")->find("bytes")->as_unsigned(), 3u);
  EXPECT_EQ(v.find("missing"), nullptr);
}

TEST(JsonReader, EmptyContainers) {
  EXPECT_TRUE(parsed("{}").members.empty());
  EXPECT_TRUE(parsed("[ ]").items.empty());
}

TEST(JsonReader, EscapesAreDecodedToUtf8) {
  Value v = parsed(R"("a\"b\\c\/d\n\t\u00e9\u2026\ud83d\ude00\u0001")");
  EXPECT_EQ(v.text, "a\"b\\c/d\n\t\xc3\xa9\xe2\x80\xa6\xf0\x9f\x98\x80\x01");
}

TEST(JsonReader, RawUtf8PassesThrough) {
  EXPECT_EQ(parsed("\"caf\xc3\xa9\"").text, "caf\xc3\xa9");
}

TEST(JsonReader, LastOfARepeatedKeyWins) {
  EXPECT_EQ(parsed(R"({"k":1,"k":2})").find("k")->as_integer(), 2);
}

TEST(JsonReader, IntegersOfTheFullRange) {
  EXPECT_EQ(parsed("18446744073709551615").as_unsigned(), 18446744073709551615ULL);
  EXPECT_FALSE(parsed("18446744073709551616").as_unsigned());
  EXPECT_FALSE(parsed("-1").as_unsigned());
  EXPECT_EQ(parsed("-9223372036854775808").as_integer(), INT64_MIN);
}

TEST(JsonReader, RejectsWhatIsNotJson) {
  for (const char *text :
       {"", "   ", "{", "}", R"({"a":1,})", R"({"a" 1})", R"({a:1})", R"({"a":1} x)",
        R"({"a":1}{"b":2})", "[1,]", "[1 2]", "01", "1.", "-", ".5", "1e", "+1", "tru",
        "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\u12g4\"", "\"\\ud800\"",
        "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"raw\ttab\"", "\"raw\nnewline\"", "NaN"})
    EXPECT_TRUE(rejected(text)) << text;
}

TEST(JsonReader, RejectsDeepNesting) {
  EXPECT_TRUE(parse(std::string(60, '[') + std::string(60, ']')).ok());
  EXPECT_TRUE(rejected(std::string(100000, '[') + std::string(100000, ']')));
}

TEST(JsonReader, ErrorSaysWhere) {
  auto r = parse(R"({"a":1,})");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("offset 7"), std::string::npos) << r.error().message();
}
