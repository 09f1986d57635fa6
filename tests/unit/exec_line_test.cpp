// ExecStart=/Environment= word syntax and $VAR expansion, as systemd does them.
#include "unit/exec_line.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using rf::unit::expand_argv;
using rf::unit::parse_exec_command;
using rf::unit::split_words;
using rf::unit::valid_env_name;
using Words = std::vector<std::string>;

namespace {

Words words(std::string_view text) {
  auto r = split_words(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : Words{};
}

std::string exec_error(std::string_view value) {
  auto r = parse_exec_command(value);
  EXPECT_FALSE(r.ok()) << value << " was accepted";
  return r.ok() ? std::string() : r.error().message();
}

} // namespace

TEST(SplitWords, SplitsOnRunsOfWhitespace) {
  EXPECT_EQ(words("  /bin/echo   a\tb  "), (Words{"/bin/echo", "a", "b"}));
  EXPECT_EQ(words(""), Words{});
  EXPECT_EQ(words("   "), Words{});
}

TEST(SplitWords, DoubleQuotesKeepSpaces) {
  EXPECT_EQ(words("/bin/sh -c \"a ; b\""), (Words{"/bin/sh", "-c", "a ; b"}));
}

TEST(SplitWords, SingleQuotesKeepSpaces) {
  EXPECT_EQ(words("echo 'one two' three"), (Words{"echo", "one two", "three"}));
}

TEST(SplitWords, QuotesMidWordJoinTheWord) {
  EXPECT_EQ(words("a\"b c\"d"), (Words{"ab cd"}));
  EXPECT_EQ(words("--opt='x y'"), (Words{"--opt=x y"}));
}

TEST(SplitWords, EmptyQuotesGiveAnEmptyWord) {
  EXPECT_EQ(words("a \"\" b"), (Words{"a", "", "b"}));
}

TEST(SplitWords, OtherQuoteInsideQuotesIsLiteral) {
  EXPECT_EQ(words("\"it's\" 'say \"hi\"'"), (Words{"it's", "say \"hi\""}));
}

TEST(SplitWords, CEscapesAreDecoded) {
  EXPECT_EQ(words("a\\nb"), (Words{"a\nb"}));
  EXPECT_EQ(words("\\x41\\x42"), (Words{"AB"}));
  EXPECT_EQ(words("\\101"), (Words{"A"}));
  EXPECT_EQ(words("a\\sb"), (Words{"a b"}));
  EXPECT_EQ(words("a\\tb"), (Words{"a\tb"}));
  EXPECT_EQ(words("a\\\\b"), (Words{"a\\b"}));
  EXPECT_EQ(words("\\\"q\\\""), (Words{"\"q\""}));
  EXPECT_EQ(words("\\u00e9"), (Words{"\xc3\xa9"}));
}

TEST(SplitWords, EscapesWorkInsideQuotes) {
  EXPECT_EQ(words("\"a\\tb \\x41\""), (Words{"a\tb A"}));
  EXPECT_EQ(words("\"say \\\"hi\\\"\""), (Words{"say \"hi\""}));
}

// systemd's cunescape has no "\ " escape (ExecStart= does not set
// EXTRACT_UNESCAPE_SEPARATORS): write "\s" or quote instead.
TEST(SplitWords, EscapedSpaceIsAnError) {
  EXPECT_FALSE(split_words("a\\ b").ok());
  EXPECT_EQ(words("a\\sb \"c d\""), (Words{"a b", "c d"}));
}

TEST(SplitWords, UnterminatedQuoteIsAnError) {
  auto d = split_words("echo \"abc");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message().find("unterminated"), std::string::npos);
  auto s = split_words("echo 'abc");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("unterminated"), std::string::npos);
}

TEST(SplitWords, BadEscapesAreErrors) {
  EXPECT_FALSE(split_words("a\\q").ok());
  EXPECT_FALSE(split_words("\\x4").ok());
  EXPECT_FALSE(split_words("\\xZZ").ok());
  EXPECT_FALSE(split_words("\\x00").ok());
  EXPECT_FALSE(split_words("\\000").ok());
  EXPECT_FALSE(split_words("\\18").ok());
  EXPECT_FALSE(split_words("trailing\\").ok());
}

TEST(ExecStart, PlainCommand) {
  auto c = parse_exec_command("/usr/bin/env FOO=1 ls");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->argv, (Words{"/usr/bin/env", "FOO=1", "ls"}));
  EXPECT_FALSE(c->ignore_failure);
  EXPECT_FALSE(c->argv0.has_value());
  EXPECT_TRUE(c->expand_environment);
}

TEST(ExecStart, QuotedArgumentStaysOneWord) {
  auto c = parse_exec_command("/bin/sh -c \"a ; b\"");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->argv, (Words{"/bin/sh", "-c", "a ; b"}));
}

TEST(ExecStart, DashPrefixIgnoresFailure) {
  auto c = parse_exec_command("-/bin/false");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ignore_failure);
  EXPECT_EQ(c->argv, (Words{"/bin/false"}));
}

TEST(ExecStart, AtPrefixTakesArgv0FromSecondWord) {
  auto c = parse_exec_command("@/bin/sleep my-sleeper 10");
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->argv0.has_value());
  EXPECT_EQ(*c->argv0, "my-sleeper");
  EXPECT_EQ(c->argv, (Words{"/bin/sleep", "10"}));
}

TEST(ExecStart, AtPrefixWithoutArgv0IsAnError) {
  exec_error("@/bin/true");
}

TEST(ExecStart, ColonPrefixTurnsOffEnvironmentExpansion) {
  auto c = parse_exec_command(":/bin/echo $HOME");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->expand_environment);
  EXPECT_EQ(c->argv, (Words{"/bin/echo", "$HOME"}));
}

TEST(ExecStart, PrefixesCombine) {
  auto c = parse_exec_command("-@/bin/sleep sleeper 1");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->ignore_failure);
  EXPECT_EQ(c->argv0.value_or(""), "sleeper");
  auto d = parse_exec_command("@-:/bin/sleep sleeper 1");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->ignore_failure);
  EXPECT_FALSE(d->expand_environment);
  EXPECT_EQ(d->argv, (Words{"/bin/sleep", "1"}));
}

TEST(ExecStart, PlusPrefixIsRefused) {
  auto m = exec_error("+/bin/true");
  EXPECT_NE(m.find("'+'"), std::string::npos) << m;
  EXPECT_NE(m.find("less sandboxing"), std::string::npos) << m;
}

TEST(ExecStart, BangPrefixIsRefused) {
  auto m = exec_error("!/bin/true");
  EXPECT_NE(m.find("'!'"), std::string::npos) << m;
}

TEST(ExecStart, DoubleBangPrefixIsRefused) {
  auto m = exec_error("!!/bin/true");
  EXPECT_NE(m.find("'!!'"), std::string::npos) << m;
}

TEST(ExecStart, RefusedPrefixAfterAnAllowedOne) {
  exec_error("-+/bin/true");
  exec_error("@!/bin/true x");
}

TEST(ExecStart, LoneSemicolonIsAnError) {
  auto m = exec_error("/bin/true ; /bin/false");
  EXPECT_NE(m.find("';'"), std::string::npos) << m;
}

TEST(ExecStart, EscapedSemicolonIsAnArgument) {
  auto c = parse_exec_command("/usr/bin/find . -exec true \\;");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->argv.back(), ";");
  auto d = parse_exec_command("/bin/echo a;b");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->argv.back(), "a;b");
}

// systemd only takes a ';' as a separator where a word starts, unquoted.
TEST(ExecStart, QuotedSemicolonIsAnArgument) {
  auto c = parse_exec_command("/usr/bin/find . -exec true \";\"");
  ASSERT_TRUE(c.ok()) << c.error().message();
  EXPECT_EQ(c->argv, (Words{"/usr/bin/find", ".", "-exec", "true", ";"}));
  auto d = parse_exec_command("/bin/sh -c 'echo a ; echo b'");
  ASSERT_TRUE(d.ok()) << d.error().message();
  EXPECT_EQ(d->argv, (Words{"/bin/sh", "-c", "echo a ; echo b"}));
}

TEST(ExecStart, CommandIsAnAbsolutePathOrAPlainName) {
  auto plain = parse_exec_command("true");
  ASSERT_TRUE(plain.ok()) << plain.error().message();
  EXPECT_EQ(plain->argv, (Words{"true"}));
  auto m = exec_error("bin/true");
  EXPECT_NE(m.find("absolute"), std::string::npos) << m;
  exec_error("./true");
}

TEST(ExecStart, EmptyCommandIsAnError) {
  exec_error("-");
  exec_error("   ");
  exec_error("\"\" arg");
}

TEST(ExecStart, UnterminatedQuoteIsAnError) {
  auto m = exec_error("/bin/echo \"abc");
  EXPECT_NE(m.find("unterminated"), std::string::npos) << m;
}

TEST(ExpandArgv, WholeWordVariableSplitsIntoWords) {
  std::map<std::string, std::string> env{{"ARGS", "-a  -b\t-c"}};
  EXPECT_EQ(expand_argv({"/bin/x", "$ARGS", "end"}, env),
            (Words{"/bin/x", "-a", "-b", "-c", "end"}));
}

TEST(ExpandArgv, UnsetWholeWordVariableVanishes) {
  EXPECT_EQ(expand_argv({"/bin/x", "$NOPE", "end"}, {}), (Words{"/bin/x", "end"}));
}

TEST(ExpandArgv, EmptyWholeWordVariableVanishes) {
  EXPECT_EQ(expand_argv({"/bin/x", "$E"}, {{"E", ""}}), (Words{"/bin/x"}));
}

TEST(ExpandArgv, BracedVariableIsReplacedInlineWithoutSplitting) {
  std::map<std::string, std::string> env{{"V", "a b"}};
  EXPECT_EQ(expand_argv({"--opt=${V}!", "${V}"}, env), (Words{"--opt=a b!", "a b"}));
}

TEST(ExpandArgv, UnsetBracedVariableBecomesEmpty) {
  EXPECT_EQ(expand_argv({"x${NOPE}y"}, {}), (Words{"xy"}));
}

TEST(ExpandArgv, DoubleDollarIsALiteralDollar) {
  std::map<std::string, std::string> env{{"V", "value"}};
  EXPECT_EQ(expand_argv({"$$V", "cost:$$5", "$${V}"}, env), (Words{"$V", "cost:$5", "${V}"}));
}

TEST(ExpandArgv, DollarInsideWordWithoutBracesStaysLiteral) {
  std::map<std::string, std::string> env{{"V", "value"}};
  EXPECT_EQ(expand_argv({"a$V", "$", "100$"}, env), (Words{"a$V", "$", "100$"}));
}

TEST(ExpandArgv, QuotedWordsInValueAreUnquoted) {
  std::map<std::string, std::string> env{{"V", "one 'two three'"}};
  EXPECT_EQ(expand_argv({"$V"}, env), (Words{"one", "two three"}));
}

TEST(ValidEnvName, AcceptsShellNames) {
  EXPECT_TRUE(valid_env_name("PATH"));
  EXPECT_TRUE(valid_env_name("_x1"));
  EXPECT_FALSE(valid_env_name(""));
  EXPECT_FALSE(valid_env_name("1X"));
  EXPECT_FALSE(valid_env_name("A-B"));
  EXPECT_FALSE(valid_env_name("A B"));
}
