// The unit-file reader: systemd's line syntax on top of inih, with line numbers.
#include "unit/ini_reader.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

using rf::Diagnostic;
using rf::Diagnostics;
using rf::unit::parse_ini;
using rf::unit::RawAssignment;

namespace {

struct Parsed {
  std::vector<RawAssignment> assignments;
  Diagnostics diags;
};

Parsed parse(const std::string &text) {
  Parsed p;
  p.assignments = parse_ini(text, "t.service", p.diags);
  return p;
}

std::string dump(const Diagnostics &diags) {
  std::string s;
  for (const auto &d : diags.items())
    s += d.str() + "\n";
  return s;
}

// The only error, which must be at `line` and mention `text`.
void expect_single_error(const Parsed &p, int line, const std::string &text) {
  ASSERT_EQ(p.diags.items().size(), 1u) << dump(p.diags);
  const Diagnostic &d = p.diags.items()[0];
  EXPECT_EQ(d.severity, Diagnostic::Severity::error);
  EXPECT_EQ(d.origin.file, "t.service");
  EXPECT_EQ(d.origin.line, line) << d.str();
  EXPECT_NE(d.message.find(text), std::string::npos) << d.str();
  EXPECT_EQ(d.str().rfind("t.service:" + std::to_string(line) + ": error: ", 0), 0u) << d.str();
}

} // namespace

TEST(IniReader, ReadsSectionsKeysValuesAndLines) {
  auto p = parse("[Unit]\nDescription=hello world\n\n[Service]\nExecStart=/bin/true\n"
                 "[Install]\nWantedBy=multi-user.target\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 3u);
  EXPECT_EQ(p.assignments[0].section, "Unit");
  EXPECT_EQ(p.assignments[0].key, "Description");
  EXPECT_EQ(p.assignments[0].value, "hello world");
  EXPECT_EQ(p.assignments[0].origin.file, "t.service");
  EXPECT_EQ(p.assignments[0].origin.line, 2);
  EXPECT_EQ(p.assignments[1].section, "Service");
  EXPECT_EQ(p.assignments[1].key, "ExecStart");
  EXPECT_EQ(p.assignments[1].origin.line, 5);
  EXPECT_EQ(p.assignments[2].section, "Install");
  EXPECT_EQ(p.assignments[2].origin.line, 7);
}

TEST(IniReader, HashAndSemicolonAtLineStartAreComments) {
  auto p = parse("# a comment\n; another\n[Service]\n  # indented comment\n\t; indented\n"
                 "User=nobody\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].key, "User");
  EXPECT_EQ(p.assignments[0].origin.line, 6);
}

TEST(IniReader, SemicolonInsideValueIsNotAComment) {
  auto p = parse("[Service]\nExecStart=/bin/sh -c \"a ; b\"\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].value, "/bin/sh -c \"a ; b\"");
}

TEST(IniReader, HashInsideValueIsNotAComment) {
  auto p = parse("[Service]\nEnvironment=A=1 # not a comment\nDescription=x;y\n");
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].value, "A=1 # not a comment");
  EXPECT_EQ(p.assignments[1].value, "x;y");
}

TEST(IniReader, TrimsWhitespaceAroundKeysValuesAndHeaders) {
  auto p = parse("  [Service]  \n   User   =   nobody  \t\nGroup=\t nogroup\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].section, "Service");
  EXPECT_EQ(p.assignments[0].key, "User");
  EXPECT_EQ(p.assignments[0].value, "nobody");
  EXPECT_EQ(p.assignments[1].value, "nogroup");
}

TEST(IniReader, EmptyValueIsKept) {
  auto p = parse("[Service]\nIPAddressDeny=\nIPAddressDeny=   \n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].value, "");
  EXPECT_EQ(p.assignments[1].value, "");
}

TEST(IniReader, ValueMayContainEqualsAndColons) {
  auto p = parse("[Service]\nEnvironment=\"A=b:c\" D=e\nSystemCallFilter=~mount:EBADF\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].key, "Environment");
  EXPECT_EQ(p.assignments[0].value, "\"A=b:c\" D=e");
  EXPECT_EQ(p.assignments[1].key, "SystemCallFilter");
  EXPECT_EQ(p.assignments[1].value, "~mount:EBADF");
}

TEST(IniReader, QuotesAreKeptInTheRawValue) {
  auto p = parse("[Service]\nExecStart=/bin/echo 'single' \"double\"\n");
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].value, "/bin/echo 'single' \"double\"");
}

TEST(IniReader, JoinsBackslashContinuations) {
  auto p = parse("[Service]\nExecStart=/bin/echo \\\n  one \\\n  two\nUser=nobody\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].key, "ExecStart");
  // Each backslash becomes a space; the words survive, in order.
  const std::string &v = p.assignments[0].value;
  EXPECT_EQ(v.rfind("/bin/echo ", 0), 0u) << v;
  EXPECT_NE(v.find("one"), std::string::npos) << v;
  EXPECT_LT(v.find("one"), v.find("two")) << v;
  EXPECT_EQ(v.find('\\'), std::string::npos) << v;
  EXPECT_EQ(v.substr(v.size() - 3), "two");
  EXPECT_EQ(p.assignments[1].key, "User");
  EXPECT_EQ(p.assignments[1].origin.line, 5);
}

TEST(IniReader, ContinuationWithoutSpaceGetsOneFromTheBackslash) {
  auto p = parse("[Service]\nIPAddressDeny=10.0.0.0/8\\\n192.168.0.0/16\n");
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].value, "10.0.0.0/8 192.168.0.0/16");
}

TEST(IniReader, ContinuationReportsItsFirstLine) {
  auto p = parse("[Service]\n\nIPAddressDeny=10.0.0.0/8 \\\n  10.1.0.0/16 \\\n  10.2.0.0/16\n"
                 "IPAddressAllow=any\n");
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].origin.line, 3);
  EXPECT_EQ(p.assignments[1].origin.line, 6);
}

TEST(IniReader, CommentLineInsideContinuationIsSkipped) {
  auto p = parse("[Service]\nIPAddressDeny=10.0.0.0/8 \\\n# explained here\n; and here\n"
                 "  192.168.0.0/16\nUser=nobody\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  const std::string &v = p.assignments[0].value;
  EXPECT_NE(v.find("10.0.0.0/8"), std::string::npos) << v;
  EXPECT_NE(v.find("192.168.0.0/16"), std::string::npos) << v;
  EXPECT_EQ(v.find('#'), std::string::npos) << v;
  EXPECT_EQ(v.find("explained"), std::string::npos) << v;
  EXPECT_EQ(p.assignments[0].origin.line, 2);
  EXPECT_EQ(p.assignments[1].origin.line, 6);
}

TEST(IniReader, FileEndingInBackslashEndsTheLine) {
  auto p = parse("[Service]\nUser=nobody \\");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].value, "nobody");
}

// systemd counts backslashes: a line ending in an escaped backslash ("\\") ends there.
TEST(IniReader, TrailingEscapedBackslashIsNotAContinuation) {
  auto p = parse("[Service]\nEnvironment=A=x\\\\\nUser=nobody\n");
  ASSERT_EQ(p.assignments.size(), 2u) << dump(p.diags);
  EXPECT_EQ(p.assignments[0].value, "A=x\\\\");
  EXPECT_EQ(p.assignments[1].key, "User");
  EXPECT_EQ(p.assignments[1].origin.line, 3);
}

TEST(IniReader, VeryLongIPAddressDenyLineArrivesWhole) {
  std::string value;
  for (int i = 0; i < 300; ++i)
    value += (value.empty() ? "" : " ") + std::string("10.") + std::to_string(i / 256) + "." +
             std::to_string(i % 256) + ".0/24";
  ASSERT_GT(value.size(), 4000u);
  auto p = parse("[Service]\nIPAddressDeny=" + value + "\nUser=nobody\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].key, "IPAddressDeny");
  EXPECT_EQ(p.assignments[0].value, value);
  EXPECT_EQ(p.assignments[1].key, "User");
  EXPECT_EQ(p.assignments[1].origin.line, 3);
}

TEST(IniReader, HundredKilobyteLineArrivesWhole) {
  std::string value(100000, 'x');
  value += " ; tail";
  auto p = parse("[Service]\nDescription=" + value + "\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].value, value);
}

TEST(IniReader, LongContinuedLineArrivesWhole) {
  std::string text = "[Service]\nIPAddressDeny=";
  for (int i = 0; i < 300; ++i)
    text += "10.0." + std::to_string(i % 256) + "." + std::to_string(i / 256) + " \\\n";
  text += "10.9.9.9\n";
  auto p = parse(text);
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].origin.line, 2);
  EXPECT_NE(p.assignments[0].value.find("10.0.255.0 "), std::string::npos);
  EXPECT_EQ(p.assignments[0].value.substr(p.assignments[0].value.size() - 8), "10.9.9.9");
}

TEST(IniReader, IndentedLineIsItsOwnAssignmentNotAnExtraValue) {
  auto p = parse("[Service]\nIPAddressDeny=10.0.0.0/8\n    IPAddressAllow=10.1.0.0/16\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].value, "10.0.0.0/8");
  EXPECT_EQ(p.assignments[1].key, "IPAddressAllow");
  EXPECT_EQ(p.assignments[1].origin.line, 3);
}

TEST(IniReader, CrlfLineEndingsAreAccepted) {
  auto p = parse("[Service]\r\nUser=nobody\r\nGroup=nogroup\r\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 2u);
  EXPECT_EQ(p.assignments[0].value, "nobody");
  EXPECT_EQ(p.assignments[1].origin.line, 3);
}

TEST(IniReader, ByteOrderMarkIsSkipped) {
  auto p = parse("\xEF\xBB\xBF[Service]\nUser=nobody\n");
  EXPECT_FALSE(p.diags.has_errors()) << dump(p.diags);
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].section, "Service");
}

TEST(IniReader, LastLineWithoutNewlineIsRead) {
  auto p = parse("[Service]\nUser=nobody");
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].value, "nobody");
}

TEST(IniReader, RepeatedKeysAreAllReportedInOrder) {
  auto p = parse("[Service]\nIPAddressDeny=10.0.0.1\nIPAddressDeny=\nIPAddressDeny=10.0.0.2\n");
  ASSERT_EQ(p.assignments.size(), 3u);
  EXPECT_EQ(p.assignments[0].value, "10.0.0.1");
  EXPECT_EQ(p.assignments[1].value, "");
  EXPECT_EQ(p.assignments[2].value, "10.0.0.2");
}

TEST(IniReader, MissingEqualsIsAnErrorWithItsLine) {
  auto p = parse("[Service]\nUser=nobody\nthis line has no equals\nGroup=nogroup\n");
  expect_single_error(p, 3, "missing '='");
  ASSERT_EQ(p.assignments.size(), 2u); // the other lines still count
  EXPECT_EQ(p.assignments[1].key, "Group");
}

TEST(IniReader, BadSectionHeaderIsAnErrorWithItsLine) {
  auto p = parse("[Unit]\nDescription=x\n[Service\nUser=nobody\n");
  ASSERT_GE(p.diags.items().size(), 1u);
  const auto &d = p.diags.items()[0];
  EXPECT_EQ(d.origin.line, 3) << d.str();
  EXPECT_NE(d.message.find("invalid section header"), std::string::npos) << d.str();
}

TEST(IniReader, EmptySectionHeaderIsAnError) {
  auto p = parse("[]\n");
  expect_single_error(p, 1, "invalid section header");
}

TEST(IniReader, AssignmentOutsideSectionIsAnErrorWithItsLine) {
  auto p = parse("# leading comment\n\nUser=nobody\n[Service]\nGroup=nogroup\n");
  expect_single_error(p, 3, "outside of a section");
  ASSERT_EQ(p.assignments.size(), 1u);
  EXPECT_EQ(p.assignments[0].key, "Group");
}

TEST(IniReader, InvalidKeyCharactersAreAnErrorWithItsLine) {
  auto p = parse("[Service]\nUser=nobody\nFoo Bar=1\n");
  expect_single_error(p, 3, "invalid directive name 'Foo Bar'");
  auto q = parse("[Service]\n\nFoo!=1\n");
  expect_single_error(q, 3, "invalid directive name");
  auto r = parse("[Service]\n=value\n");
  expect_single_error(r, 2, "invalid directive name");
}

TEST(IniReader, NulByteIsAnError) {
  static const char kText[] = "[Service]\nUser=no\0body\n";
  auto p = parse(std::string(kText, sizeof kText - 1));
  ASSERT_TRUE(p.diags.has_errors());
  EXPECT_EQ(p.diags.items()[0].origin.line, 2);
  for (const auto &a : p.assignments)
    EXPECT_NE(a.key, "User"); // never a cut value
}

TEST(IniReader, EveryProblemIsReportedNotOnlyTheFirst) {
  auto p = parse("User=x\n[Service]\nbroken\n[Bad\nFoo Bar=1\nGroup=ok\n");
  ASSERT_EQ(p.diags.items().size(), 4u) << dump(p.diags);
  std::set<int> lines;
  for (const auto &d : p.diags.items())
    lines.insert(d.origin.line);
  EXPECT_EQ(lines, (std::set<int>{1, 3, 4, 5})) << dump(p.diags);
}

TEST(IniReader, ErrorLineOfMalformedContinuationIsItsFirstLine) {
  auto p = parse("[Service]\nno equals here \\\n  still none\n");
  expect_single_error(p, 2, "missing '='");
}
