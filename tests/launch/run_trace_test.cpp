// `ringfence run`: the audit trail's tracing programs (bpf/syscall_trace.bpf.c). They say
// which process made a refused attempt; one set serves every run below a parent, and it
// works where tracefs is not mounted. Needs root. Traffic only to loopback addresses.
#include "launch/launch_support.hpp"

#include <fstream>
#include <sstream>
#include <sys/xattr.h>

namespace rf::test {
namespace {

std::string get_xattr(const std::string &path, const char *name) {
  char value[512];
  ssize_t n = ::getxattr(path.c_str(), name, value, sizeof value);
  return n > 0 ? std::string(value, static_cast<std::size_t>(n)) : std::string();
}

// The kernel ids of the links a holder's advert names ("PID START BUILD FD..."), read from
// the holder's /proc/PID/fdinfo: the same ids mean the same attached programs.
std::vector<std::string> link_ids_of(const std::string &advert) {
  std::istringstream words(advert);
  std::string pid, start, build, fd;
  words >> pid >> start >> build;
  std::vector<std::string> ids;
  while (words >> fd) {
    std::ifstream info("/proc/" + pid + "/fdinfo/" + fd);
    for (std::string line; std::getline(info, line);)
      if (line.rfind("link_id:", 0) == 0)
        ids.push_back(line);
  }
  return ids;
}

std::string holder_pid(const std::string &advert) { return advert.substr(0, advert.find(' ')); }

TEST(RunTrace, EachProcessIsNamedForItsOwnAttempts) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // Two processes, one after the other, each one refused connect to the same destination:
  // the counter alone would name only the last of them.
  std::string python = "import os, socket\n"
                       "s = socket.socket()\n"
                       "try: s.connect(('127.0.0.2', 4242))\n"
                       "except PermissionError: print(os.getpid())\n";
  std::string script = env.write_script(
      "two.sh", "python3 -c \"" + python + "\"\npython3 -c \"" + python + "\"\n");
  CommandResult result = env.run({"-p", "IPAddressDeny=127.0.0.2", "--", script});
  ASSERT_EQ(result.status, 0) << result.err;
  std::vector<std::string> pids = split_lines(result.out);
  ASSERT_EQ(pids.size(), 2u) << result.out;
  auto denied = audit_records(env.audit_log, "connect-denied");
  ASSERT_EQ(denied.size(), 2u) << read_file(env.audit_log);
  std::set<std::string> named;
  for (const std::string &r : denied) {
    EXPECT_EQ(json_field(r, "count"), "1") << r;
    EXPECT_EQ(json_field(r, "comm"), "python3") << r;
    EXPECT_EQ(json_field(r, "daddr"), "127.0.0.2") << r;
    named.insert(json_field(r, "pid").value_or(""));
  }
  EXPECT_EQ(named, std::set<std::string>(pids.begin(), pids.end()));
}

// The same connect from a process outside the run: the kernel refuses it (nobody listens),
// ringfence neither refuses nor records it.
TEST(RunTrace, TheSameConnectOutsideTheRunIsNoRecord) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo ready(env.tmp / "ready");
  std::string script = env.write_waiting_script(ready);
  Background ringfence = env.start({"-p", "IPAddressDeny=127.0.0.2", "--", script});
  ASSERT_TRUE(ready.read_line());
  CommandResult outside = run_command(
      {"/usr/bin/python3", "-c",
       "import socket\ns = socket.socket()\ntry: s.connect(('127.0.0.2', 4242))\n"
       "except ConnectionRefusedError: print('refused by the kernel')\n"});
  EXPECT_EQ(outside.out, "refused by the kernel\n") << outside.err;
  env.release();
  ASSERT_EQ(ringfence.wait_exit(), 0);
  EXPECT_TRUE(audit_records(env.audit_log, "connect-denied").empty()) << read_file(env.audit_log);
}

TEST(RunTrace, KilledCallIsADenialWithActionKill) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // No SystemCallErrorNumber=: a refused call kills the process (SIGSYS).
  std::string script = env.write_script(
      "kill.sh", "echo $$\nexec python3 -c 'import os; os.setpriority(os.PRIO_PROCESS, 0, 5)'\n");
  CommandResult result = env.run({"-p", "SystemCallFilter=~setpriority", "--", script});
  EXPECT_EQ(result.status, 128 + SIGSYS) << result.err;
  auto denied = audit_records(env.audit_log, "syscall-denied");
  ASSERT_EQ(denied.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(denied[0], "syscall"), "setpriority");
  EXPECT_EQ(json_field(denied[0], "action"), "kill");
  EXPECT_EQ(json_field(denied[0], "errno"), std::nullopt);
  EXPECT_EQ(json_field(denied[0], "count"), "1");
  EXPECT_EQ(json_field(denied[0], "comm"), "python3");
  EXPECT_EQ(json_field(denied[0], "pid").value_or("") + "\n", result.out);
}

// The filter hands each refused call to the supervisor, which answers it: a flood is slow for
// the service, never inexact.
TEST(RunTrace, AFloodOfRefusedCallsIsCountedExactly) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run(
      {"-p", "SystemCallFilter=~setpriority", "-p", "SystemCallErrorNumber=EACCES", "--",
       "python3", "-c",
       "import os, threading\n"
       "refused = []\n"
       "def loop():\n"
       "  n = 0\n"
       "  for i in range(2500):\n"
       "    try: os.setpriority(os.PRIO_PROCESS, 0, 5)\n"
       "    except PermissionError: n += 1\n"
       "  refused.append(n)\n"
       "threads = [threading.Thread(target=loop) for _ in range(4)]\n"
       "for t in threads: t.start()\n"
       "for t in threads: t.join()\n"
       "print(sum(refused))\n"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "10000\n");
  std::uint64_t counted = 0;
  for (const std::string &r : audit_records(env.audit_log, "syscall-denied")) {
    EXPECT_EQ(json_field(r, "errno"), "EACCES") << r;
    counted += std::stoull(json_field(r, "count").value_or("0"));
  }
  EXPECT_EQ(counted, 10000u) << read_file(env.audit_log);
}

// ringfence itself under a filter with a listener: the kernel refuses the service's filter
// another one. AuditTrail=required refuses to start; best-effort runs the same filter without
// notifications (the calls are still refused) and says so.
TEST(RunTrace, ALoadedListenerElsewhereIsRefusedOrSaidSo) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::vector<std::string> run = env.run_argv({"-p", "SystemCallFilter=~setpriority", "-p",
                                               "SystemCallErrorNumber=EPERM", "--",
                                               helpers_dir() + "/sc-probe", "syscall", "141"});
  std::vector<std::string> argv{helpers_dir() + "/sc-probe", "with-listener"};
  argv.insert(argv.end(), run.begin(), run.end());
  CommandResult required = run_command(argv);
  EXPECT_EQ(required.status, 125) << required.out << required.err;

  std::vector<std::string> best_effort = argv;
  best_effort.insert(best_effort.begin() + 4 + 4, {"-p", "AuditTrail=best-effort"});
  CommandResult result = run_command(best_effort);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "errno=EPERM\n"); // setpriority (141): refused all the same
  EXPECT_NE(result.err.find("not recorded"), std::string::npos) << result.err;
  auto starts = audit_records(env.audit_log, "start");
  ASSERT_FALSE(starts.empty());
  EXPECT_NE(json_field(starts.back(), "audit_trail").value_or("").find("off: "), std::string::npos)
      << starts.back();
}

TEST(RunTrace, LoggedCallsAreSyscallLoggedRecordsNotDenials) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"-p", "SystemCallLog=getppid", "--",
                                  helpers_dir() + "/sc-probe", "syscall", "110"}); // getppid
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "ok\n");
  EXPECT_TRUE(audit_records(env.audit_log, "syscall-denied").empty()) << read_file(env.audit_log);
  auto logged = audit_records(env.audit_log, "syscall-logged");
  ASSERT_EQ(logged.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(logged[0], "syscall"), "getppid");
  EXPECT_EQ(json_field(logged[0], "nr"), "110");
  EXPECT_EQ(json_field(logged[0], "count"), "1");
  EXPECT_EQ(json_field(logged[0], "comm"), "sc-probe");
  EXPECT_EQ(json_field(logged[0], "action"), std::nullopt);
}

TEST(RunTrace, ConcurrentRunsShareOneSetOfPrograms) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo ready(env.tmp / "ready");
  std::string script = env.write_waiting_script(ready);
  // A kill policy: the tracing program counts the filter's kills.
  std::vector<std::string> policy{"-p", "SystemCallFilter=~setpriority", "--", script};
  Background first = env.start(policy, {}, "first");
  ASSERT_TRUE(ready.read_line());
  Background second = env.start(policy, {}, "second");
  ASSERT_TRUE(ready.read_line());

  std::vector<std::string> adverts;
  for (const std::string &run : env.parent.children())
    adverts.push_back(get_xattr(env.parent.absolute() + "/" + run, "trusted.ringfence.trace"));
  ASSERT_EQ(adverts.size(), 2u);
  EXPECT_NE(holder_pid(adverts[0]), holder_pid(adverts[1])); // each supervisor holds it
  std::vector<std::string> first_links = link_ids_of(adverts[0]);
  EXPECT_EQ(first_links.size(), 1u) << adverts[0];
  EXPECT_EQ(link_ids_of(adverts[1]), first_links);

  env.release();
  EXPECT_EQ(first.wait_exit(), 0);
  EXPECT_EQ(second.wait_exit(), 0);
}

TEST(RunTrace, TheNextRunTakesOverTheSetTheLastOneLeft) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::vector<std::string> policy{"-p", "SystemCallFilter=~setpriority", "--"};
  std::vector<std::string> first = policy;
  first.push_back("/bin/true");
  CommandResult result = env.run(first);
  ASSERT_EQ(result.status, 0) << result.err;
  std::string keeper;
  ASSERT_TRUE(wait_until([&] {
    keeper = get_xattr(env.parent.absolute(), "trusted.ringfence.trace_keeper");
    return !keeper.empty();
  }));
  std::vector<std::string> kept = link_ids_of(keeper);
  EXPECT_EQ(kept.size(), 1u) << keeper;

  Fifo ready(env.tmp / "ready");
  std::string script = env.write_waiting_script(ready);
  std::vector<std::string> next_run = policy;
  next_run.push_back(script);
  Background next = env.start(next_run);
  ASSERT_TRUE(ready.read_line());
  std::vector<std::string> runs = env.parent.children();
  ASSERT_EQ(runs.size(), 1u);
  std::string advert = get_xattr(env.parent.absolute() + "/" + runs[0], "trusted.ringfence.trace");
  EXPECT_EQ(link_ids_of(advert), kept);
  env.release();
  EXPECT_EQ(next.wait_exit(), 0);
}

std::size_t tracefs_mounts() {
  std::size_t count = 0;
  for (const std::string &line : split_lines(read_file("/proc/self/mountinfo")))
    count += line.find(" - tracefs ") != std::string::npos;
  return count;
}

// A fresh machine has no tracefs mounted: the audit trail needs none (raw tracepoints, and
// the IP filter's own hooks), and mounts none.
TEST(RunTrace, WorksWithoutTracefsAndLeavesTheMountsAsTheyWere) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::size_t before = tracefs_mounts();
  std::vector<std::string> run = env.run_argv(
      {"-p", "IPAddressDeny=127.0.0.2", "-p", "SystemCallFilter=~setpriority", "-p",
       "SystemCallErrorNumber=EPERM", "--", "python3", "-c",
       "import os, socket\ns = socket.socket()\ntry: s.connect(('127.0.0.2', 80))\n"
       "except PermissionError: print(os.getpid())\n"
       "try: os.setpriority(os.PRIO_PROCESS, 0, 5)\nexcept PermissionError: pass\n"});
  std::string command = "for m in /sys/kernel/tracing /sys/kernel/debug/tracing /sys/kernel/debug; "
                        "do umount -l $m 2>/dev/null; done; "
                        "if grep -q ' - tracefs ' /proc/self/mountinfo; then echo mounted; exit 1; fi; "
                        "exec \"$@\"";
  std::vector<std::string> argv{"/usr/bin/unshare", "--mount", "--propagation", "private",
                                "/bin/sh", "-c", command, "sh"};
  argv.insert(argv.end(), run.begin(), run.end());
  CommandResult result = run_command(argv);
  ASSERT_EQ(result.status, 0) << result.out << result.err;
  auto denied = audit_records(env.audit_log, "connect-denied");
  ASSERT_EQ(denied.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(denied[0], "pid").value_or("") + "\n", result.out);
  auto refused = audit_records(env.audit_log, "syscall-denied");
  ASSERT_EQ(refused.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(refused[0], "pid").value_or("") + "\n", result.out);
  EXPECT_EQ(tracefs_mounts(), before);
}

} // namespace
} // namespace rf::test
