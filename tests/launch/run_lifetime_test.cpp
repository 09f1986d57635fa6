// `ringfence run`: how long a run lasts for each Type=, and the signals the supervisor
// forwards. Services report through fifos the test holds open. Needs root.
#include "launch/launch_support.hpp"

#include <csignal>

namespace rf::test {
namespace {

TEST(RunLifetime, OneshotRunsEveryExecStartInOrder) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string log = env.tmp / "order";
  std::string unit = env.write_unit("steps.service", "Type=oneshot\n"
                                                     "ExecStart=/bin/sh -c \"echo one >>" + log + "\"\n"
                                                     "ExecStart=/bin/sh -c \"echo two >>" + log + "\"\n"
                                                     "ExecStart=/bin/sh -c \"echo three >>" + log + "\"\n");
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(read_file(log), "one\ntwo\nthree\n");
}

TEST(RunLifetime, OneshotStopsAtTheFirstFailingCommandAndReturnsItsStatus) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string log = env.tmp / "order";
  std::string unit = env.write_unit("steps.service", "Type=oneshot\n"
                                                     "ExecStart=/bin/sh -c \"echo one >>" + log + "\"\n"
                                                     "ExecStart=/bin/sh -c \"exit 3\"\n"
                                                     "ExecStart=/bin/sh -c \"echo three >>" + log + "\"\n");
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 3) << result.err;
  EXPECT_EQ(read_file(log), "one\n");
}

TEST(RunLifetime, OneshotIgnoresTheFailureOfADashPrefixedCommand) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string log = env.tmp / "order";
  std::string unit = env.write_unit("steps.service", "Type=oneshot\n"
                                                     "ExecStart=-/bin/sh -c \"exit 4\"\n"
                                                     "ExecStart=/bin/sh -c \"echo two >>" + log + "\"\n");
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(read_file(log), "two\n");
}

TEST(RunLifetime, ExecAndNotifyEndWhenTheMainProcessExits) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  for (const char *type : {"simple", "exec", "notify"}) {
    CommandResult result = env.run({"-p", std::string("Type=") + type, "--", "/bin/sh", "-c",
                                    "exit 6"});
    EXPECT_EQ(result.status, 6) << "Type=" << type << ": " << result.err;
  }
}

// Type=forking: the parent reports its pid and exits 0; the daemons it leaves behind wait
// for a line each on `go`, then exit with their own status.
std::string forking_unit(const LaunchEnv &env, const Fifo &events, const Fifo &go,
                         const std::string &daemon_statuses, int parent_status) {
  std::string body = "echo parent $$ >" + events.path() + "\n";
  for (char status : daemon_statuses)
    body += std::string("( read line <") + go.path() + "; exit " + status + " ) &\n" +
            "echo daemon $! >" + events.path() + "\n";
  body += "exit " + std::to_string(parent_status) + "\n";
  std::string script = env.write_script("forking.sh", body);
  return env.write_unit("forking.service", "Type=forking\nExecStart=" + script + "\n");
}

pid_t pid_from_event(const std::optional<std::string> &line, const std::string &what) {
  EXPECT_TRUE(line && line->rfind(what + " ", 0) == 0) << line.value_or("(nothing)");
  return line ? static_cast<pid_t>(std::stol(line->substr(what.size() + 1))) : -1;
}

TEST(RunLifetime, ForkingLastsUntilTheDaemonExitsAndReturnsItsStatus) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events"), go(env.tmp / "go");
  Background ringfence = env.start({forking_unit(env, events, go, "5", 0)});
  pid_t parent = pid_from_event(events.read_line(), "parent");
  pid_t daemon = pid_from_event(events.read_line(), "daemon");
  ASSERT_TRUE(wait_until([&] { return process_state(parent) == '\0'; }))
      << "the forking parent was not reaped";
  EXPECT_FALSE(ringfence.wait_exit(100ms)) << "the run ended while its daemon still runs";
  EXPECT_TRUE(process_alive(daemon));

  go.write_line("go");
  EXPECT_EQ(ringfence.wait_exit(), 5) << read_file(env.tmp / "ringfence.err");
}

TEST(RunLifetime, ForkingWithSeveralDaemonsLeftReturnsZero) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events"), go(env.tmp / "go");
  Background ringfence = env.start({forking_unit(env, events, go, "56", 0)});
  pid_t parent = pid_from_event(events.read_line(), "parent");
  pid_from_event(events.read_line(), "daemon");
  pid_from_event(events.read_line(), "daemon");
  ASSERT_TRUE(wait_until([&] { return process_state(parent) == '\0'; }));
  EXPECT_FALSE(ringfence.wait_exit(100ms)) << "the run ended while its daemons still run";

  go.write_line("go");
  go.write_line("go");
  EXPECT_EQ(ringfence.wait_exit(), 0) << read_file(env.tmp / "ringfence.err");
}

TEST(RunLifetime, ForkingParentFailureIsTheStatusAndKillsTheDaemon) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events"), go(env.tmp / "go");
  Background ringfence = env.start({forking_unit(env, events, go, "5", 4)});
  pid_from_event(events.read_line(), "parent");
  pid_t daemon = pid_from_event(events.read_line(), "daemon");
  EXPECT_EQ(ringfence.wait_exit(), 4) << read_file(env.tmp / "ringfence.err");
  EXPECT_FALSE(process_alive(daemon)) << "the daemon of a failed start must be killed";
}

// A service that writes "ready" once its traps are set, "usr1" for every SIGUSR1, and exits
// 0 on SIGTERM. `sleep & wait` keeps the shell interruptible by trapped signals.
std::string trapping_service(const LaunchEnv &env, const Fifo &events) {
  return env.write_script("traps.sh", "trap 'echo usr1 >" + events.path() + "' USR1\n" +
                                          "trap 'exit 0' TERM\n" + "echo ready >" +
                                          events.path() + "\n" +
                                          "while :; do sleep 1000.321 & wait $!; done\n");
}

TEST(RunSignals, ForwardedSignalReachesTheService) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  Background ringfence = env.start({"--", trapping_service(env, events)});
  ASSERT_EQ(events.read_line(), "ready") << read_file(env.tmp / "ringfence.err");

  ringfence.signal(SIGUSR1);
  EXPECT_EQ(events.read_line(), "usr1");
  EXPECT_FALSE(ringfence.exited());
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 0) << "the service trapped TERM and exited 0";
}

TEST(RunSignals, EveryForwardedSignalArrives) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script = env.write_script(
      "traps.sh", "for s in HUP INT QUIT USR1 USR2 WINCH; do\n"
                  "  trap \"echo $s >" + events.path() + "\" $s\n"
                  "done\n"
                  "trap 'exit 0' TERM\n"
                  "echo ready >" + events.path() + "\n"
                  "while :; do sleep 1000.322 & wait $!; done\n");
  Background ringfence = env.start({"--", script});
  ASSERT_EQ(events.read_line(), "ready") << read_file(env.tmp / "ringfence.err");
  const std::pair<int, const char *> signals[] = {{SIGHUP, "HUP"},   {SIGINT, "INT"},
                                                  {SIGQUIT, "QUIT"}, {SIGUSR1, "USR1"},
                                                  {SIGUSR2, "USR2"}, {SIGWINCH, "WINCH"}};
  for (const auto &[signo, name] : signals) {
    ringfence.signal(signo);
    EXPECT_EQ(events.read_line(), name) << "SIG" << name << " was not forwarded";
  }
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 0);
}

TEST(RunSignals, UntrappedTermEndsTheRunWithStatus143) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script =
      env.write_script("plain.sh", "echo ready >" + events.path() + "\nexec sleep 1000.323\n");
  Background ringfence = env.start({"--", script});
  ASSERT_EQ(events.read_line(), "ready") << read_file(env.tmp / "ringfence.err");
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
}

} // namespace
} // namespace rf::test
