// A run's refusals as records: counts from the kernel's tables, names from the tables (IP)
// and from the traced events (seccomp kills).
#include "audit/refusal_report.hpp"
#include "sandbox_abi.h"
#include "util/json_reader.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

namespace rf::audit {
namespace {

// A record's top-level member as text (numbers as written), or nullopt.
std::optional<std::string> json_field(const std::string &record, const std::string &key) {
  Result<json::Value> value = json::parse(record);
  const json::Value *member = value ? value->find(key) : nullptr;
  return member ? std::optional<std::string>(member->text) : std::nullopt;
}

std::array<std::uint8_t, 16> v4(const char *text) {
  std::array<std::uint8_t, 16> addr{};
  ::inet_pton(AF_INET, text, addr.data());
  return addr;
}

const RunIdentity kRun{"web.service", "0123456789abcdef0123456789abcdef"};
const timespec kNow{1'800'000'000, 0};

netfilter::Denial connect_total(std::uint64_t count) {
  netfilter::Denial d;
  d.kind = SANDBOX_EVENT_CONNECT_DENIED;
  d.family = AF_INET;
  d.protocol = IPPROTO_TCP;
  d.port = 443;
  d.addr = v4("127.0.0.2");
  d.count = count;
  d.process = d.pid = 99;
  d.comm = "last";
  return d;
}

netfilter::Denial connect_total(std::uint64_t count, pid_t pid, const char *comm) {
  netfilter::Denial d = connect_total(count);
  d.process = d.pid = pid;
  d.comm = comm;
  return d;
}

TEST(RefusalReport, EachProcessIsRecordedForItsOwnAttempts) {
  RefusalReport report;
  auto records =
      report.records(kRun, kNow, {connect_total(2, 42, "curl"), connect_total(1)}, 0, {});
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(json_field(records[0], "event"), "connect-denied");
  EXPECT_EQ(json_field(records[0], "pid"), "42");
  EXPECT_EQ(json_field(records[0], "comm"), "curl");
  EXPECT_EQ(json_field(records[0], "count"), "2");
  EXPECT_EQ(json_field(records[0], "daddr"), "127.0.0.2");
  EXPECT_EQ(json_field(records[0], "dport"), "443");
  EXPECT_EQ(json_field(records[1], "pid"), "99");
  EXPECT_EQ(json_field(records[1], "comm"), "last");
  EXPECT_EQ(json_field(records[1], "count"), "1");
}

TEST(RefusalReport, OnlyTheGrowthSinceTheLastRecordsIsRecorded) {
  RefusalReport report;
  EXPECT_EQ(report.records(kRun, kNow, {connect_total(3)}, 0, {}).size(), 1u);
  EXPECT_TRUE(report.records(kRun, kNow, {connect_total(3)}, 0, {}).empty());
  auto records = report.records(kRun, kNow, {connect_total(5)}, 0, {});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(json_field(records[0], "count"), "2");
}

// Drops are counted per destination (process 0); the task named is only the last one the
// entry saw, and a change of it must not start the count again.
TEST(RefusalReport, ADropEntryIsOneCountWhoeverItNames) {
  netfilter::Denial d;
  d.kind = SANDBOX_EVENT_EGRESS_DROP;
  d.family = AF_INET;
  d.protocol = IPPROTO_ICMP;
  d.addr = v4("127.0.0.2");
  RefusalReport report;
  std::uint64_t recorded = 0;
  for (auto [count, pid] : {std::pair{3u, 10}, {6u, 11}, {9u, 12}, {9u, 13}}) {
    d.count = count;
    d.pid = pid;
    for (const std::string &record : report.records(kRun, kNow, {d}, 0, {}))
      recorded += std::stoull(json_field(record, "count").value_or("0"));
  }
  EXPECT_EQ(recorded, 9u);
}

TEST(RefusalReport, DroppedPacketHasBothEnds) {
  netfilter::Denial d;
  d.kind = SANDBOX_EVENT_INGRESS_DROP;
  d.family = AF_INET;
  d.protocol = IPPROTO_TCP;
  d.port = 5555; // remote
  d.addr = v4("127.0.0.3");
  d.local_port = 8080;
  d.local_addr = v4("127.0.0.1");
  d.count = 4;
  RefusalReport report;
  auto records = report.records(kRun, kNow, {d}, 0, {});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(json_field(records[0], "event"), "packet-dropped");
  EXPECT_EQ(json_field(records[0], "direction"), "ingress");
  EXPECT_EQ(json_field(records[0], "saddr"), "127.0.0.3");
  EXPECT_EQ(json_field(records[0], "sport"), "5555");
  EXPECT_EQ(json_field(records[0], "daddr"), "127.0.0.1");
  EXPECT_EQ(json_field(records[0], "dport"), "8080");
  EXPECT_EQ(json_field(records[0], "count"), "4");
}

TEST(RefusalReport, RefusalsWithoutADestinationAddUpToo) {
  RefusalReport report;
  auto records = report.records(kRun, kNow, {}, 7, {});
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(json_field(records[0], "event"), "denied-unattributed");
  EXPECT_EQ(json_field(records[0], "count"), "7");
  EXPECT_EQ(report.records(kRun, kNow, {}, 9, {}).size(), 1u);
}

TEST(RefusalReport, SyscallRecordsByAction) {
  RefusalReport report;
  report.attribute({{41, {7, "python3"}}});
  std::vector<SyscallTotal> totals{
      {{41, SyscallAction::errno_return, EPERM}, 1, {8, "other"}},
      {{62, SyscallAction::kill, 0}, 1, {9, "sh"}},
      {{110, SyscallAction::log, 0}, 3, {10, "sc-probe"}},
  };
  auto records = report.records(kRun, kNow, {}, 0, totals);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(json_field(records[0], "event"), "syscall-denied");
  EXPECT_EQ(json_field(records[0], "syscall"), "socket");
  EXPECT_EQ(json_field(records[0], "errno"), "EPERM");
  EXPECT_EQ(json_field(records[0], "pid"), "7");
  EXPECT_EQ(json_field(records[1], "action"), "kill");
  EXPECT_EQ(json_field(records[1], "syscall"), "kill");
  EXPECT_EQ(json_field(records[2], "event"), "syscall-logged");
  EXPECT_EQ(json_field(records[2], "syscall"), "getppid");
  EXPECT_EQ(json_field(records[2], "count"), "3");
}

} // namespace
} // namespace rf::audit
