// Records read back from the log: parsing, selection, the table's cells, the summary.
#include "audit/review.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using rf::audit::add_kinds;
using rf::audit::destination;
using rf::audit::Filter;
using rf::audit::parse_record;
using rf::audit::Micros;
using rf::audit::parse_timestamp;
using rf::audit::Record;
using rf::audit::Summary;
using rf::audit::SummaryLine;
using rf::audit::Table;
using rf::audit::table_headings;
using rf::audit::table_row;
using rf::audit::unit_filter_name;

namespace {

// A record line: the common fields, then `extra` (starting with a comma, or empty).
std::string line(const std::string &event, const std::string &extra,
                 const std::string &unit = "web.service",
                 const std::string &time = "2026-11-29T10:02:11.520113Z") {
  return R"({"time":")" + time + R"(","event":")" + event + R"(","unit":")" + unit +
         R"(","invocation":"21bbc9340a2e332390d80e3282cce8ee","pid":4121,"comm":"curl")" + extra +
         "}";
}

Record record(const std::string &text) {
  auto r = parse_record(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message());
  return r.ok() ? *r : Record{};
}

std::string where(const std::string &event, const std::string &extra) {
  return destination(record(line(event, extra)));
}

const std::string kConnect =
    R"(,"family":"ipv4","protocol":"tcp","daddr":"127.0.0.9","dport":443,"count":1)";

} // namespace

TEST(ReviewRecord, KeepsTheLineAndTheCommonFields) {
  std::string text = line("connect-denied", kConnect);
  Record r = record(text);
  EXPECT_EQ(r.line, text);
  EXPECT_EQ(r.event, "connect-denied");
  EXPECT_EQ(r.unit, "web.service");
  EXPECT_EQ(r.time, *parse_timestamp("2026-11-29T10:02:11.520113Z"));
  EXPECT_EQ(r.number("pid"), "4121");
  EXPECT_EQ(r.text("comm"), "curl");
  EXPECT_EQ(r.text("pid"), ""); // a number is not a string
}

TEST(ReviewRecord, MalformedLines) {
  for (const std::string &text :
       {std::string("not json"), std::string("[1,2]"), std::string(R"("text")"),
        std::string(R"({"event":"exit","unit":"a.service"})"),
        std::string(R"({"time":"yesterday","event":"exit","unit":"a.service"})"),
        std::string(R"({"time":"2026-11-29T10:02:11Z","unit":"a.service"})"),
        std::string(R"({"time":"2026-11-29T10:02:11Z","event":"exit","unit":7})"),
        std::string(R"({"time":"2026-11-29T10:02:11Z","event":"exit","unit":"a","pid":"12"})"),
        line("connect-denied", R"(,"count":-1)"), line("connect-denied", R"(,"count":1.5)"),
        line("exit", "").substr(0, 40)})
    EXPECT_FALSE(parse_record(text).ok()) << text;
}

TEST(ReviewRecord, UnknownEventsAndExtraFieldsAreRecords) {
  Record r = record(line("future-event", R"(,"new":{"x":[1,2]})"));
  EXPECT_EQ(destination(r), "");
}

TEST(ReviewDestination, ConnectAndSendmsg) {
  EXPECT_EQ(where("connect-denied", kConnect), "127.0.0.9:443/tcp");
  EXPECT_EQ(where("sendmsg-denied",
                  R"(,"family":"ipv4","protocol":"udp","daddr":"127.0.0.5","dport":53,"count":2)"),
            "127.0.0.5:53/udp");
  EXPECT_EQ(where("connect-denied",
                  R"(,"family":"ipv6","protocol":"tcp","daddr":"::1","dport":443,"count":1)"),
            "[::1]:443/tcp");
}

TEST(ReviewDestination, PacketDropped) {
  EXPECT_EQ(where("packet-dropped", R"(,"direction":"egress","family":"ipv4","protocol":"icmp",)"
                                    R"("daddr":"127.0.0.2","count":1)"),
            "127.0.0.2/icmp");
  EXPECT_EQ(where("packet-dropped", R"(,"direction":"egress","family":"ipv4","protocol":"udp",)"
                                    R"("daddr":"127.0.0.6","dport":123,"count":1)"),
            "127.0.0.6:123/udp");
  EXPECT_EQ(where("packet-dropped", R"(,"direction":"ingress","family":"ipv4","protocol":"tcp",)"
                                    R"("saddr":"127.0.0.7","sport":40000,"count":4)"),
            "from 127.0.0.7:40000/tcp");
  EXPECT_EQ(where("packet-dropped", R"(,"direction":"ingress","family":"ipv6",)"
                                    R"("protocol":"icmpv6","saddr":"fe80::1","count":1)"),
            "from fe80::1/icmpv6");
}

TEST(ReviewDestination, Syscalls) {
  EXPECT_EQ(where("syscall-denied",
                  R"(,"syscall":"mount","nr":165,"action":"errno","errno":"EPERM","count":3)"),
            "mount (EPERM)");
  EXPECT_EQ(where("syscall-denied", R"(,"syscall":"ptrace","nr":101,"action":"kill","count":1)"),
            "ptrace (kill)");
  EXPECT_EQ(where("syscall-logged", R"(,"syscall":"uname","nr":63,"count":5)"), "uname");
}

TEST(ReviewDestination, StartIsTheCommand) {
  EXPECT_EQ(where("start", R"(,"command":["/usr/bin/web","--port","8080"],"cgroup":"/x")"),
            "/usr/bin/web --port 8080");
}

TEST(ReviewDestination, ExitIsTheStatusAndAFailedStage) {
  EXPECT_EQ(where("exit", R"(,"status":0,"duration_ms":97,"stage":"exec")"), "status 0");
  EXPECT_EQ(where("exit", R"(,"status":125,"duration_ms":3,"stage":"uid")"),
            "status 125 (stage uid)");
}

TEST(ReviewDestination, UnattributedHasNone) {
  EXPECT_EQ(where("denied-unattributed", R"(,"count":9)"), "");
}

TEST(ReviewRow, Cells) {
  EXPECT_EQ(table_row(record(line("connect-denied", kConnect))),
            (std::vector<std::string>{"2026-11-29 10:02:11.52", "web.service", "4121", "curl",
                                      "connect-denied", "127.0.0.9:443/tcp", "1"}));
  std::vector<std::string> exit_row =
      table_row(record(line("exit", R"(,"status":0,"duration_ms":9,"stage":"exec")")));
  EXPECT_EQ(exit_row[5], "status 0");
  EXPECT_EQ(exit_row[6], "");
}

TEST(ReviewRow, LongCommandIsTruncatedToSixtyCharacters) {
  std::string word(100, 'a');
  std::vector<std::string> row =
      table_row(record(line("start", R"(,"command":["/bin/x",")" + word + R"("],"cgroup":"/x")")));
  EXPECT_EQ(row[5], "/bin/x " + std::string(52, 'a') + "\u2026");
  std::string exactly_sixty(53, 'b');
  row = table_row(record(line("start", R"(,"command":["/bin/x",")" + exactly_sixty + R"("])")));
  EXPECT_EQ(row[5], "/bin/x " + exactly_sixty);
}

TEST(ReviewRow, TruncationCountsCharactersNotBytes) {
  std::string accents;
  for (int i = 0; i < 70; ++i)
    accents += "\u00e9";
  std::vector<std::string> row =
      table_row(record(line("start", R"(,"command":[")" + accents + R"("])")));
  EXPECT_EQ(row[5], accents.substr(0, 59 * 2) + "\u2026");
}

TEST(ReviewRow, ControlCharactersAreEscaped) {
  std::vector<std::string> row = table_row(record(
      R"({"time":"2026-11-29T10:02:11Z","event":"start","unit":"a.service","pid":1,)"
      R"("comm":"x\u001b[2Jy","command":["a\nb","c\u009bd"]})"));
  EXPECT_EQ(row[3], "x\\x1b[2Jy");
  EXPECT_EQ(row[5], "a\\x0ab c\\x9bd");
}

TEST(ReviewFilter, UnitNames) {
  EXPECT_EQ(unit_filter_name("web"), "web.service");
  EXPECT_EQ(unit_filter_name("web.service"), "web.service");
  EXPECT_EQ(unit_filter_name("python3.11"), "python3.11.service"); // as `run` names it
  EXPECT_EQ(unit_filter_name("getty@tty1"), "getty@tty1.service");
}

TEST(ReviewFilter, Kinds) {
  std::vector<std::string> kinds;
  ASSERT_TRUE(add_kinds("exit", kinds).ok());
  ASSERT_TRUE(add_kinds("connect-denied,syscall-denied", kinds).ok());
  EXPECT_EQ(kinds, (std::vector<std::string>{"exit", "connect-denied", "syscall-denied"}));
  for (const char *bad : {"", "exits", "exit,", ",exit", "exit,,start", "Exit"}) {
    std::vector<std::string> ignored;
    auto status = add_kinds(bad, ignored);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_NE(status.error().message().find("denied-unattributed"), std::string::npos);
  }
}

TEST(ReviewFilter, SelectsByUnitTimeAndKind) {
  Record at_noon = record(line("exit", "", "web.service", "2026-11-29T12:00:00.000000Z"));
  Micros noon = at_noon.time;
  EXPECT_TRUE(Filter{}.matches(at_noon));
  EXPECT_TRUE((Filter{"web.service", {}, {}, {}}).matches(at_noon));
  EXPECT_FALSE((Filter{"db.service", {}, {}, {}}).matches(at_noon));
  EXPECT_TRUE((Filter{"", noon, {}, {}}).matches(at_noon));      // since: inclusive
  EXPECT_FALSE((Filter{"", noon + 1, {}, {}}).matches(at_noon));
  EXPECT_FALSE((Filter{"", {}, noon, {}}).matches(at_noon));     // until: exclusive
  EXPECT_TRUE((Filter{"", {}, noon + 1, {}}).matches(at_noon));
  EXPECT_TRUE((Filter{"", {}, {}, {"start", "exit"}}).matches(at_noon));
  EXPECT_FALSE((Filter{"", {}, {}, {"start"}}).matches(at_noon));
}

TEST(ReviewTable, ColumnsFitTheirContent) {
  Table table({"A", "BB", "C"});
  table.fit({"long cell", "x", ""});
  table.fit({"\u00e9\u00e9", "yyy", "9"});
  EXPECT_EQ(table.header(), "A          BB   C");
  EXPECT_EQ(table.format({"long cell", "x", ""}), "long cell  x");
  EXPECT_EQ(table.format({"\u00e9\u00e9", "yyy", "9"}), "\u00e9\u00e9         yyy  9");
  // A cell wider than its column (a record printed while following) pushes the rest on.
  EXPECT_EQ(table.format({"much longer cell", "x", "1"}), "much longer cell  x    1");
}

TEST(ReviewTable, HeadingsAreTheContractColumns) {
  EXPECT_EQ(Table(table_headings()).header(), "TIME  UNIT  PID  COMM  EVENT  DESTINATION  COUNT");
}

TEST(ReviewSummary, SumsDenialsPerUnitEventAndDestination) {
  Summary summary;
  auto add = [&summary](const std::string &text) { summary.add(record(text)); };
  std::string mount = R"(,"syscall":"mount","nr":165,"action":"errno","errno":"EPERM","count":)";
  add(line("start", R"(,"command":["/bin/web"])"));
  add(line("connect-denied", kConnect));
  add(line("connect-denied", kConnect));
  add(line("syscall-denied", mount + "3"));
  add(line("syscall-denied", mount + "4"));
  add(line("syscall-logged", R"(,"syscall":"uname","nr":63,"count":50)"));
  add(line("denied-unattributed", R"(,"count":1)", "a.service"));
  add(line("connect-denied", kConnect, "z.service"));
  add(line("packet-dropped", R"(,"direction":"egress","protocol":"icmp","daddr":"127.0.0.8")"));
  add(line("exit", R"(,"status":0,"stage":"exec")"));
  std::vector<SummaryLine> lines = summary.lines();
  ASSERT_EQ(lines.size(), 5u);
  auto expect = [&lines](std::size_t i, const char *unit, const char *event, const char *where,
                         unsigned long long count) {
    EXPECT_EQ(lines[i].unit, unit) << i;
    EXPECT_EQ(lines[i].event, event) << i;
    EXPECT_EQ(lines[i].destination, where) << i;
    EXPECT_EQ(lines[i].count, count) << i;
  };
  expect(0, "a.service", "denied-unattributed", "", 1);
  expect(1, "web.service", "syscall-denied", "mount (EPERM)", 7);
  expect(2, "web.service", "connect-denied", "127.0.0.9:443/tcp", 2);
  expect(3, "web.service", "packet-dropped", "127.0.0.8/icmp", 1); // no count: one attempt
  expect(4, "z.service", "connect-denied", "127.0.0.9:443/tcp", 1);
}

TEST(ReviewSummary, HugeCountsSaturate) {
  Summary summary;
  for (int i = 0; i < 2; ++i)
    summary.add(record(line("connect-denied", R"(,"daddr":"127.0.0.8","count":18446744073709551615)")));
  EXPECT_EQ(summary.lines().at(0).count, 18446744073709551615ULL);
}

TEST(ReviewSummary, Json) {
  EXPECT_EQ(rf::audit::summary_json({"web.service", "connect-denied", "127.0.0.9:443/tcp", 2}),
            R"({"unit":"web.service","event":"connect-denied","destination":"127.0.0.9:443/tcp","count":2})");
}
