// `ringfence run`: the audit records of refused attempts. The IP filter's programs count
// every refusal in the kernel; the supervisor writes them as records whose `count` adds up
// exactly. Needs root. Traffic only to loopback addresses, denied ones included.
#include "launch/launch_support.hpp"

#include <map>

namespace rf::test {
namespace {

// The service: a python3 program that makes `count` denied TCP connects (and, with
// `with_listener`, is expected to see nothing but EPERM), then prints its pid.
std::string connect_loop(const std::string &address, int port, int count) {
  return "import os, socket\n"
         "refused = 0\n"
         "for i in range(" + std::to_string(count) + "):\n"
         "  s = socket.socket()\n"
         "  try: s.connect(('" + address + "', " + std::to_string(port) + "))\n"
         "  except PermissionError: refused += 1\n"
         "  except OSError: pass\n"
         "  s.close()\n"
         "print(os.getpid(), refused)\n";
}

std::uint64_t sum_counts(const std::vector<std::string> &records) {
  std::uint64_t sum = 0;
  for (const std::string &r : records)
    sum += std::stoull(json_field(r, "count").value_or("0"));
  return sum;
}

TEST(RunAudit, OneDeniedConnectIsOneRecordNamingTheProcessAndDestination) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result =
      env.run({"-p", "IPAddressDeny=127.0.0.2", "--unit-name", "probe.service", "--",
               "python3", "-c", connect_loop("127.0.0.2", 4242, 1)});
  ASSERT_EQ(result.status, 0) << result.err;
  std::string pid = result.out.substr(0, result.out.find(' '));
  EXPECT_EQ(result.out.substr(result.out.find(' ') + 1), "1\n");

  auto denied = audit_records(env.audit_log, "connect-denied");
  ASSERT_EQ(denied.size(), 1u) << read_file(env.audit_log);
  const std::string &r = denied[0];
  EXPECT_EQ(json_field(r, "unit"), "probe.service");
  EXPECT_EQ(json_field(r, "invocation"), json_field(audit_records(env.audit_log, "start").at(0), "invocation"));
  EXPECT_EQ(json_field(r, "pid"), pid);
  EXPECT_EQ(json_field(r, "comm"), "python3");
  EXPECT_EQ(json_field(r, "family"), "ipv4");
  EXPECT_EQ(json_field(r, "protocol"), "tcp");
  EXPECT_EQ(json_field(r, "daddr"), "127.0.0.2");
  EXPECT_EQ(json_field(r, "dport"), "4242");
  EXPECT_EQ(json_field(r, "count"), "1");
}

TEST(RunAudit, ConnectionRefusedByNoListenerIsNoRecord) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // Allowed, but nothing listens on the port: ECONNREFUSED is not ringfence's refusal.
  CommandResult result = env.run({"-p", "IPAddressDeny=127.0.0.2", "--", "python3", "-c",
                                  connect_loop("127.0.0.1", 9, 3)});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(audit_records(env.audit_log, "connect-denied").empty()) << read_file(env.audit_log);
}

TEST(RunAudit, FloodOfDeniedConnectsIsCountedExactly) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"-p", "IPAddressDeny=127.0.0.2", "--", "python3", "-c",
                                  connect_loop("127.0.0.2", 80, 20000)});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out.substr(result.out.find(' ') + 1), "20000\n");
  auto denied = audit_records(env.audit_log, "connect-denied");
  ASSERT_FALSE(denied.empty());
  EXPECT_EQ(sum_counts(denied), 20000u);
  for (const std::string &r : denied)
    EXPECT_EQ(json_field(r, "daddr"), "127.0.0.2") << r;
}

TEST(RunAudit, DeniedDatagramsAndDroppedIcmpAreRecorded) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run(
      {"-p", "IPAddressDeny=127.0.0.2 ::1", "--", "python3", "-c",
       "import socket\n"
       "u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n"
       "for i in range(4):\n"
       "  try: u.sendto(b'x', ('::ffff:127.0.0.2', 5353))\n"
       "  except PermissionError: pass\n"
       "r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
       "for i in range(3):\n"
       "  try: r.sendto(b'\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00', ('127.0.0.2', 0))\n"
       "  except PermissionError: pass\n"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto sends = audit_records(env.audit_log, "sendmsg-denied");
  ASSERT_EQ(sends.size(), 1u) << read_file(env.audit_log);
  // A v4-mapped destination is reported as the IPv4 address it maps to.
  EXPECT_EQ(json_field(sends[0], "family"), "ipv4");
  EXPECT_EQ(json_field(sends[0], "daddr"), "127.0.0.2");
  EXPECT_EQ(json_field(sends[0], "protocol"), "udp");
  EXPECT_EQ(json_field(sends[0], "dport"), "5353");
  EXPECT_EQ(json_field(sends[0], "count"), "4");
  auto drops = audit_records(env.audit_log, "packet-dropped");
  ASSERT_EQ(drops.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(drops[0], "direction"), "egress");
  EXPECT_EQ(json_field(drops[0], "protocol"), "icmp");
  EXPECT_EQ(json_field(drops[0], "count"), "3");
}

// Drops are counted per destination, whichever process sends: three processes one after
// another, three packets each, are nine in the records as in the exit record's totals.
TEST(RunAudit, DropsOfSeveralProcessesAddUpToTheExitTotals) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run(
      {"-p", "IPAddressDeny=127.0.0.2", "-p", "IPAccounting=yes", "--", "sh", "-c",
       "for i in 1 2 3; do python3 -c \"\n"
       "import socket\n"
       "r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
       "for i in range(3):\n"
       "  try: r.sendto(b'\\x08\\x00\\xf7\\xff\\x00\\x00\\x00\\x00', ('127.0.0.2', 0))\n"
       "  except PermissionError: pass\n"
       "\"; done"});
  ASSERT_EQ(result.status, 0) << result.err;
  std::uint64_t recorded = 0;
  for (const std::string &r : audit_records(env.audit_log, "packet-dropped"))
    recorded += std::stoull(json_field(r, "count").value_or("0"));
  EXPECT_EQ(recorded, 9u) << read_file(env.audit_log);
  auto exits = audit_records(env.audit_log, "exit");
  ASSERT_EQ(exits.size(), 1u);
  EXPECT_NE(exits[0].find("\"ip_dropped_egress_packets\":9"), std::string::npos) << exits[0];
}

TEST(RunAudit, ConcurrentRunsGetTheirOwnRecords) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Background first = env.start({"-p", "IPAddressDeny=127.0.0.2", "--unit-name", "a.service",
                                "--", "python3", "-c", connect_loop("127.0.0.2", 1001, 300)},
                               {}, "a");
  Background second = env.start({"-p", "IPAddressDeny=127.0.0.2", "--unit-name", "b.service",
                                 "--", "python3", "-c", connect_loop("127.0.0.2", 1002, 200)},
                                {}, "b");
  ASSERT_EQ(first.wait_exit(), 0);
  ASSERT_EQ(second.wait_exit(), 0);
  std::map<std::string, std::uint64_t> by_unit_port;
  for (const std::string &r : audit_records(env.audit_log, "connect-denied"))
    by_unit_port[json_field(r, "unit").value_or("") + ":" + json_field(r, "dport").value_or("")] +=
        std::stoull(json_field(r, "count").value_or("0"));
  EXPECT_EQ(by_unit_port, (std::map<std::string, std::uint64_t>{{"a.service:1001", 300},
                                                                {"b.service:1002", 200}}));
}

// More distinct destinations than the kernel's table holds: the refusals it cannot keep
// by destination are still counted, as denied-unattributed, and the sum stays exact.
TEST(RunAudit, MoreDestinationsThanTheTableHoldsStillAddUpExactly) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run(
      {"-p", "IPAddressDeny=127.0.0.2 127.0.0.3", "--", "python3", "-c",
       "import socket\n"
       "n = 0\n"
       "for host in ('127.0.0.2', '127.0.0.3'):\n"
       "  for port in range(1, 35001):\n"
       "    s = socket.socket()\n"
       "    try: s.connect((host, port))\n"
       "    except PermissionError: n += 1\n"
       "    s.close()\n"
       "print(n)\n"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "70000\n");
  auto by_destination = audit_records(env.audit_log, "connect-denied");
  auto unattributed = audit_records(env.audit_log, "denied-unattributed");
  EXPECT_FALSE(unattributed.empty());
  EXPECT_EQ(sum_counts(by_destination) + sum_counts(unattributed), 70000u);
}

// logrotate moves the file away while a service runs: the records after that go to a new
// file at the same path.
TEST(RunAudit, RecordsAfterARotationGoToTheNewFile) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo ready(env.tmp / "ready");
  std::string script = env.write_waiting_script(ready);
  Background ringfence = env.start({"--unit-name", "rotated.service", "--", script});
  ASSERT_TRUE(ready.read_line());
  // The supervisor writes the start record once the exec is done: as the service starts.
  ASSERT_TRUE(wait_until([&] { return audit_records(env.audit_log, "start").size() == 1; }));
  ASSERT_EQ(::rename(env.audit_log.c_str(), (env.audit_log + ".1").c_str()), 0);
  env.release();
  ASSERT_EQ(ringfence.wait_exit(), 0);
  EXPECT_EQ(audit_records(env.audit_log + ".1", "start").size(), 1u);
  EXPECT_EQ(audit_records(env.audit_log, "exit").size(), 1u) << read_file(env.audit_log);
}

// Refused system calls: handed to the supervisor by the filter, answered and counted there.
TEST(RunAudit, RefusedSystemCallsAreRecordedWithNameErrnoAndCount) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run(
      {"-p", "SystemCallFilter=~setpriority", "-p", "SystemCallErrorNumber=EPERM", "--",
       "python3", "-c",
       "import os\n"
       "for i in range(5):\n"
       "  try: os.setpriority(os.PRIO_PROCESS, 0, 5)\n"
       "  except PermissionError: pass\n"
       "print(os.getpid())\n"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto denied = audit_records(env.audit_log, "syscall-denied");
  ASSERT_EQ(denied.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(denied[0], "syscall"), "setpriority");
  EXPECT_EQ(json_field(denied[0], "action"), "errno");
  EXPECT_EQ(json_field(denied[0], "errno"), "EPERM");
  EXPECT_EQ(json_field(denied[0], "count"), "5");
  EXPECT_EQ(json_field(denied[0], "comm"), "python3");
  EXPECT_EQ(json_field(denied[0], "pid").value_or("") + "\n", result.out);
}

// The same errno from the kernel for a call the filter allows is not the filter's refusal.
TEST(RunAudit, ErrorsOfAllowedCallsAreNoRecord) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run(
      {"-p", "SystemCallFilter=~setpriority", "-p", "SystemCallErrorNumber=EPERM", "-p",
       "User=nobody", "--", "python3", "-c",
       "import os\n"
       "try: os.kill(1, 0)\n" // EPERM from the kernel: nobody may not signal pid 1
       "except PermissionError: pass\n"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(audit_records(env.audit_log, "syscall-denied").empty()) << read_file(env.audit_log);
}

// A process outside the run making the refused call is none of the run's business.
TEST(RunAudit, CallsOfProcessesOutsideTheRunAreNoRecord) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo ready(env.tmp / "ready");
  std::string script = env.write_waiting_script(ready);
  Background ringfence = env.start({"-p", "SystemCallFilter=~setpriority", "-p",
                                    "SystemCallErrorNumber=EPERM", "--", script});
  ASSERT_TRUE(ready.read_line());
  // Outside, as nobody: setpriority on pid 1 fails with the kernel's EPERM — the very call
  // and errno the run's filter refuses, so only the cgroup tells them apart.
  CommandResult outside = run_command(
      {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
       "import os\ntry: os.setpriority(os.PRIO_PROCESS, 1, 5)\nexcept PermissionError: "
       "print('refused')\n"});
  EXPECT_EQ(outside.out, "refused\n") << outside.err;
  env.release();
  ASSERT_EQ(ringfence.wait_exit(), 0);
  EXPECT_TRUE(audit_records(env.audit_log, "syscall-denied").empty()) << read_file(env.audit_log);
}

} // namespace
} // namespace rf::test
