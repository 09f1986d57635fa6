// The service environment: EnvironmentFile= syntax as systemd's load_env_file(), the
// pass-through variables, and the order and precedence of the final list.
#include "launch/environment.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

using namespace rf;
using namespace rf::launch;
using rf::test::TempDir;
using rf::test::write_file;
using Strings = std::vector<std::string>;

namespace {

constexpr const char *kPath = "/etc/x.env";

EnvVars parse(std::string_view text) {
  auto r = parse_environment_file(text, kPath);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : EnvVars{};
}

std::string parse_error(std::string_view text) {
  auto r = parse_environment_file(text, kPath);
  EXPECT_FALSE(r.ok()) << text << " was accepted";
  return r.ok() ? std::string() : r.error().message();
}

// The single value a one-assignment file gives.
std::string value_of(std::string_view text) {
  EnvVars vars = parse(text);
  EXPECT_EQ(vars.size(), 1u) << text;
  return vars.empty() ? std::string() : vars.front().second;
}

std::string base_path() { return std::string("PATH=") + kDefaultPath; }

Passthrough socket_activation() {
  Passthrough p;
  p.listen_fds = "2";
  p.listen_fdnames = "http:https";
  return p;
}

} // namespace

// --- parse_environment_file: syntax ------------------------------------------------------

TEST(EnvironmentFileParse, PlainAssignmentsInOrder) {
  EXPECT_EQ(parse("A=1\nB=two\nC=\n"), (EnvVars{{"A", "1"}, {"B", "two"}, {"C", ""}}));
}

TEST(EnvironmentFileParse, EmptyTextGivesNothing) {
  EXPECT_EQ(parse(""), EnvVars{});
  EXPECT_EQ(parse("\n\n  \n\t\n"), EnvVars{});
}

TEST(EnvironmentFileParse, LastLineNeedsNoNewline) {
  EXPECT_EQ(parse("A=1\nB=2"), (EnvVars{{"A", "1"}, {"B", "2"}}));
  EXPECT_EQ(parse("A="), (EnvVars{{"A", ""}}));
}

TEST(EnvironmentFileParse, CommentLinesAreSkipped) {
  EXPECT_EQ(parse("# A=1\n; B=2\n  # C=3\nD=4\n"), (EnvVars{{"D", "4"}}));
}

TEST(EnvironmentFileParse, HashAfterTheValueIsPartOfIt) {
  EXPECT_EQ(value_of("A=x # not a comment"), "x # not a comment");
  EXPECT_EQ(value_of("A=x;y"), "x;y");
}

TEST(EnvironmentFileParse, CommentEndsAtItsNewlineEvenAfterABackslash) {
  EXPECT_EQ(parse("# note \\\nA=1\n"), (EnvVars{{"A", "1"}}));
}

TEST(EnvironmentFileParse, WhitespaceAroundNameAndEqualsIsDropped) {
  EXPECT_EQ(parse("  \tA = 1\nB\t=\t2\n"), (EnvVars{{"A", "1"}, {"B", "2"}}));
}

TEST(EnvironmentFileParse, UnquotedTrailingWhitespaceIsTrimmed) {
  EXPECT_EQ(value_of("A=a b  \t \n"), "a b");
}

TEST(EnvironmentFileParse, UnquotedInnerWhitespaceAndQuotesStay) {
  EXPECT_EQ(value_of("A=a  b\tc"), "a  b\tc");
  EXPECT_EQ(value_of("A=x\"y z\"'w'"), "x\"y z\"'w'");
}

TEST(EnvironmentFileParse, ExportPrefixIsDropped) {
  EXPECT_EQ(parse("export A=1\nexport\t B=2\n"), (EnvVars{{"A", "1"}, {"B", "2"}}));
}

TEST(EnvironmentFileParse, VariableNamedExportIsKept) {
  EXPECT_EQ(parse("export=1\nexporter=2\n"), (EnvVars{{"export", "1"}, {"exporter", "2"}}));
  EXPECT_EQ(parse("export = 3\n"), (EnvVars{{"export", "3"}}));
}

TEST(EnvironmentFileParse, LaterAssignmentReplacesInPlace) {
  EXPECT_EQ(parse("A=1\nB=2\nA=3\n"), (EnvVars{{"A", "3"}, {"B", "2"}}));
  EXPECT_EQ(parse("A=1\nexport A=2\n"), (EnvVars{{"A", "2"}}));
}

TEST(EnvironmentFileParse, SingleQuotesAreLiteral) {
  EXPECT_EQ(value_of("A='  a \\n \"b\" $c \\'"), "  a \\n \"b\" $c \\");
}

TEST(EnvironmentFileParse, SingleQuotesSpanLines) {
  EXPECT_EQ(parse("A='one\ntwo'\nB=3\n"), (EnvVars{{"A", "one\ntwo"}, {"B", "3"}}));
}

TEST(EnvironmentFileParse, DoubleQuotesKeepWhitespace) {
  EXPECT_EQ(value_of("A=\"  a  b  \"  "), "  a  b  ");
}

TEST(EnvironmentFileParse, DoubleQuoteEscapes) {
  EXPECT_EQ(value_of(R"(A="q\" b\\ t\` d\$")"), "q\" b\\ t` d$");
}

TEST(EnvironmentFileParse, DoubleQuoteOtherBackslashStays) {
  EXPECT_EQ(value_of(R"(A="a\nb\'c")"), "a\\nb\\'c");
}

TEST(EnvironmentFileParse, DoubleQuoteBackslashNewlineContinues) {
  EXPECT_EQ(parse("A=\"one \\\ntwo\"\nB=3\n"), (EnvVars{{"A", "one two"}, {"B", "3"}}));
}

TEST(EnvironmentFileParse, DoubleQuotesSpanLines) {
  EXPECT_EQ(value_of("A=\"one\ntwo\""), "one\ntwo");
}

TEST(EnvironmentFileParse, QuotedAndUnquotedPartsJoin) {
  EXPECT_EQ(value_of("A=\"a b\"c"), "a bc");
  EXPECT_EQ(value_of("A='a' \"b\""), "ab");
}

TEST(EnvironmentFileParse, UnquotedBackslashKeepsTheNextCharacter) {
  EXPECT_EQ(value_of(R"(A=a\ b\\c\"d\n)"), "a b\\c\"dn");
  EXPECT_EQ(value_of(R"(A=\'x)"), "'x");
}

TEST(EnvironmentFileParse, EscapedTrailingSpaceIsKept) {
  EXPECT_EQ(value_of("A=a\\ "), "a ");
  EXPECT_EQ(value_of("A=\\  "), " ");
}

TEST(EnvironmentFileParse, UnquotedBackslashNewlineContinues) {
  EXPECT_EQ(parse("A=one \\\n  two\nB=3\n"), (EnvVars{{"A", "one   two"}, {"B", "3"}}));
}

TEST(EnvironmentFileParse, TrailingBackslashAtEndOfTextIsDropped) {
  EXPECT_EQ(value_of("A=x\\"), "x");
}

TEST(EnvironmentFileParse, CrLfLineEndsAreWhitespace) {
  EXPECT_EQ(parse("A=1\r\n# c\r\nB = two words \r\nC=\"q\"\r\n"),
            (EnvVars{{"A", "1"}, {"B", "two words"}, {"C", "q"}}));
}

TEST(EnvironmentFileParse, BackslashCrLfContinues) {
  EXPECT_EQ(value_of("A=one\\\r\ntwo\r\n"), "onetwo");
  EXPECT_EQ(value_of("A=\"one\\\r\ntwo\"\r\n"), "onetwo");
}

// --- parse_environment_file: errors ------------------------------------------------------

TEST(EnvironmentFileErrors, InvalidNameWithLineNumber) {
  EXPECT_EQ(parse_error("A=1\n\n1FOO=x\n"), "/etc/x.env:3: invalid variable name '1FOO'");
  EXPECT_EQ(parse_error("A-B=1"), "/etc/x.env:1: invalid variable name 'A-B'");
  EXPECT_EQ(parse_error("A B=1"), "/etc/x.env:1: invalid variable name 'A B'");
}

TEST(EnvironmentFileErrors, EmptyName) {
  EXPECT_EQ(parse_error("A=1\n=x\n"), "/etc/x.env:2: invalid variable name ''");
}

TEST(EnvironmentFileErrors, MissingEquals) {
  EXPECT_EQ(parse_error("A=1\nFOO\nB=2\n"), "/etc/x.env:2: missing '=' in 'FOO'");
  EXPECT_EQ(parse_error("A=1\n  FOO  "), "/etc/x.env:2: missing '=' in 'FOO'");
}

TEST(EnvironmentFileErrors, UnterminatedQuoteNamesTheLineItOpened) {
  EXPECT_EQ(parse_error("A=1\nB=\"open\nC=2\n"), "/etc/x.env:2: unterminated quote");
  EXPECT_EQ(parse_error("A='open"), "/etc/x.env:1: unterminated quote");
  EXPECT_EQ(parse_error("A=\"x\\"), "/etc/x.env:1: unterminated quote");
}

TEST(EnvironmentFileErrors, LineNumbersCountContinuationsAndQuotedNewlines) {
  EXPECT_EQ(parse_error("A=a\\\nb\nB='x\ny'\n# c\n9=z\n"),
            "/etc/x.env:6: invalid variable name '9'");
}

TEST(EnvironmentFileErrors, NulByte) {
  EXPECT_EQ(parse_error(std::string_view("A=1\nB=x\0y\n", 10)),
            "/etc/x.env:2: NUL byte in the file");
}

// --- read_environment_file ---------------------------------------------------------------

TEST(EnvironmentFileRead, ReadsAndParses) {
  TempDir tmp;
  write_file(tmp / "a.env", "# settings\nA=1\nexport B=\"two words\"\n");
  auto r = read_environment_file({tmp / "a.env", false});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, (EnvVars{{"A", "1"}, {"B", "two words"}}));
}

TEST(EnvironmentFileRead, ParseErrorNamesTheFile) {
  TempDir tmp;
  write_file(tmp / "bad.env", "A=1\nBAD\n");
  auto r = read_environment_file({tmp / "bad.env", false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), tmp / "bad.env" + ":2: missing '=' in 'BAD'");
}

TEST(EnvironmentFileRead, MissingOptionalFileIsEmpty) {
  TempDir tmp;
  auto r = read_environment_file({tmp / "none.env", true});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(*r, EnvVars{});
}

TEST(EnvironmentFileRead, MissingRequiredFileIsAnError) {
  TempDir tmp;
  auto r = read_environment_file({tmp / "none.env", false});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, ENOENT);
  EXPECT_EQ(r.error().what, "Failed to read environment file '" + tmp / "none.env" + "'");
}

TEST(EnvironmentFileRead, OptionalExcusesOnlyAMissingFile) {
  TempDir tmp; // a directory opens but cannot be read: EISDIR
  auto r = read_environment_file({tmp.path(), true});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().err, EISDIR);
  EXPECT_EQ(r.error().what, "Failed to read environment file '" + tmp.path() + "'");
}

// --- Passthrough::from -------------------------------------------------------------------

TEST(EnvironmentPassthrough, NothingFromAnEmptyEnvironment) {
  Passthrough p = Passthrough::from({}, 42, true);
  EXPECT_FALSE(p.notify_socket);
  EXPECT_FALSE(p.listen_fds);
  EXPECT_FALSE(p.listen_fdnames);
  EXPECT_FALSE(p.term);
}

TEST(EnvironmentPassthrough, NotifySocketWhenSetAndNonEmpty) {
  EXPECT_EQ(Passthrough::from({"NOTIFY_SOCKET=/run/n.sock"}, 42, false).notify_socket,
            "/run/n.sock");
  EXPECT_FALSE(Passthrough::from({"NOTIFY_SOCKET="}, 42, false).notify_socket);
}

TEST(EnvironmentPassthrough, ListenFdsWhenListenPidIsOurs) {
  Passthrough p = Passthrough::from(
      {"HOME=/root", "LISTEN_PID=42", "LISTEN_FDS=3", "LISTEN_FDNAMES=a:b:c"}, 42, false);
  EXPECT_EQ(p.listen_fds, "3");
  EXPECT_EQ(p.listen_fdnames, "a:b:c");
}

TEST(EnvironmentPassthrough, ListenFdNamesAreOptional) {
  Passthrough p = Passthrough::from({"LISTEN_PID=42", "LISTEN_FDS=1"}, 42, false);
  EXPECT_EQ(p.listen_fds, "1");
  EXPECT_FALSE(p.listen_fdnames);
}

TEST(EnvironmentPassthrough, ListenFdsForAnotherPidAreDropped) {
  Passthrough p = Passthrough::from(
      {"LISTEN_PID=41", "LISTEN_FDS=3", "LISTEN_FDNAMES=a:b:c"}, 42, false);
  EXPECT_FALSE(p.listen_fds);
  EXPECT_FALSE(p.listen_fdnames);
}

TEST(EnvironmentPassthrough, ListenFdsNeedAListenPid) {
  EXPECT_FALSE(Passthrough::from({"LISTEN_FDS=3"}, 42, false).listen_fds);
}

TEST(EnvironmentPassthrough, ListenPidMustBePlainDecimal) {
  for (const char *pid : {"LISTEN_PID=", "LISTEN_PID=+42", "LISTEN_PID= 42", "LISTEN_PID=42x",
                          "LISTEN_PID=0x2a", "LISTEN_PID=-42", "LISTEN_PID=420"})
    EXPECT_FALSE(Passthrough::from({pid, "LISTEN_FDS=1"}, 42, false).listen_fds) << pid;
}

TEST(EnvironmentPassthrough, ListenFdsMustBeAPositiveNumber) {
  for (const char *fds : {"LISTEN_FDS=0", "LISTEN_FDS=", "LISTEN_FDS=-1", "LISTEN_FDS=two",
                          "LISTEN_FDS=2 ", "LISTEN_FDS=99999999999999999999999"})
    EXPECT_FALSE(Passthrough::from({"LISTEN_PID=42", fds}, 42, false).listen_fds) << fds;
}

TEST(EnvironmentPassthrough, TermOnlyWhenStdinIsATerminal) {
  EXPECT_EQ(Passthrough::from({"TERM=xterm-256color"}, 42, true).term, "xterm-256color");
  EXPECT_FALSE(Passthrough::from({"TERM=xterm-256color"}, 42, false).term);
  EXPECT_FALSE(Passthrough::from({"TERM="}, 42, true).term);
}

TEST(EnvironmentPassthrough, FirstAssignmentCountsAsForGetenv) {
  Passthrough p = Passthrough::from({"NOTIFY_SOCKET=/first", "NOTIFY_SOCKET=/second"}, 42,
                                    false);
  EXPECT_EQ(p.notify_socket, "/first");
}

TEST(EnvironmentPassthrough, EntriesWithoutEqualsOrWithLongerNamesAreIgnored) {
  Passthrough p = Passthrough::from({"TERM", "TERMINAL=x", "NOTIFY_SOCKET_X=/y"}, 42, true);
  EXPECT_FALSE(p.term);
  EXPECT_FALSE(p.notify_socket);
}

// --- build_environment -------------------------------------------------------------------

TEST(EnvironmentBuild, CleanSlateIsPathAndInvocationId) {
  EXPECT_EQ(build_environment(Policy{}, "0123abcd", nullptr, {}, {}),
            (Strings{base_path(), "INVOCATION_ID=0123abcd"}));
}

TEST(EnvironmentBuild, AccountAddsUserVariables) {
  Account account{"web", 1000, 1000, "/srv/web", "/usr/sbin/nologin"};
  EXPECT_EQ(build_environment(Policy{}, "id", &account, {}, {}),
            (Strings{base_path(), "INVOCATION_ID=id", "USER=web", "LOGNAME=web",
                     "HOME=/srv/web", "SHELL=/usr/sbin/nologin"}));
}

TEST(EnvironmentBuild, PassthroughInItsFixedOrder) {
  Passthrough p = socket_activation();
  p.term = "vt220";
  p.notify_socket = "/run/n";
  EXPECT_EQ(build_environment(Policy{}, "id", nullptr, p, {}),
            (Strings{base_path(), "INVOCATION_ID=id", "NOTIFY_SOCKET=/run/n", "LISTEN_FDS=2",
                     "LISTEN_FDNAMES=http:https", "TERM=vt220", "LISTEN_PID="}));
}

TEST(EnvironmentBuild, FullOrder) {
  Account account{"web", 1000, 1000, "/srv/web", "/bin/sh"};
  Passthrough p;
  p.notify_socket = "/run/n";
  Policy policy;
  policy.environment = {"Z=1", "A=2"};
  EXPECT_EQ(build_environment(policy, "id", &account, p, {{"M", "3"}, {"B", "4"}}),
            (Strings{base_path(), "INVOCATION_ID=id", "USER=web", "LOGNAME=web",
                     "HOME=/srv/web", "SHELL=/bin/sh", "NOTIFY_SOCKET=/run/n", "Z=1", "A=2",
                     "M=3", "B=4"}));
}

TEST(EnvironmentBuild, EnvironmentOverridesInPlace) {
  Account account{"web", 1000, 1000, "/srv/web", "/bin/sh"};
  Policy policy;
  policy.environment = {"X=1", "PATH=/opt/bin", "HOME=/tmp", "X=2"};
  EXPECT_EQ(build_environment(policy, "id", &account, {}, {}),
            (Strings{"PATH=/opt/bin", "INVOCATION_ID=id", "USER=web", "LOGNAME=web",
                     "HOME=/tmp", "SHELL=/bin/sh", "X=2"}));
}

TEST(EnvironmentBuild, EnvironmentValueMayContainEquals) {
  Policy policy;
  policy.environment = {"OPTS=a=b=c", "EMPTY="};
  EXPECT_EQ(build_environment(policy, "id", nullptr, {}, {}),
            (Strings{base_path(), "INVOCATION_ID=id", "OPTS=a=b=c", "EMPTY="}));
}

TEST(EnvironmentBuild, EnvironmentFilesOverrideEnvironment) {
  Policy policy;
  policy.environment = {"A=unit", "B=unit"};
  Passthrough p;
  p.term = "vt220";
  EXPECT_EQ(build_environment(policy, "id", nullptr, p, {{"B", "file"}, {"TERM", "dumb"}}),
            (Strings{base_path(), "INVOCATION_ID=id", "TERM=dumb", "A=unit", "B=file"}));
}

TEST(EnvironmentBuild, ListenPidIsLastAndEmpty) {
  Policy policy;
  policy.environment = {"A=1"};
  EXPECT_EQ(build_environment(policy, "id", nullptr, socket_activation(), {{"B", "2"}}),
            (Strings{base_path(), "INVOCATION_ID=id", "LISTEN_FDS=2",
                     "LISTEN_FDNAMES=http:https", "A=1", "B=2", "LISTEN_PID="}));
}

TEST(EnvironmentBuild, UnitListenPidGivesWayToTheChildsPid) {
  Policy policy;
  policy.environment = {"LISTEN_PID=1", "A=1"};
  EXPECT_EQ(build_environment(policy, "id", nullptr, socket_activation(),
                              {{"LISTEN_PID", "7"}}),
            (Strings{base_path(), "INVOCATION_ID=id", "LISTEN_FDS=2",
                     "LISTEN_FDNAMES=http:https", "A=1", "LISTEN_PID="}));
}

TEST(EnvironmentBuild, UnitListenPidStaysWithoutSocketActivation) {
  Policy policy;
  policy.environment = {"LISTEN_PID=1"};
  EXPECT_EQ(build_environment(policy, "id", nullptr, {}, {}),
            (Strings{base_path(), "INVOCATION_ID=id", "LISTEN_PID=1"}));
}
