// `ringfence run`: what the service inherits from its caller — environment, standard
// streams, file descriptors — and how UNIT and ARGS are found. Needs root.
#include "launch/launch_support.hpp"

#include <fcntl.h>
#include <map>
#include <sys/socket.h>
#include <unistd.h>

namespace rf::test {
namespace {

// "KEY=VALUE" lines (env(1), fd-report) as a map.
std::map<std::string, std::string> parse_assignments(const std::string &text) {
  std::map<std::string, std::string> values;
  for (const std::string &line : split_lines(text)) {
    std::size_t eq = line.find('=');
    if (eq != std::string::npos)
      values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return values;
}

std::string fd_report() { return helpers_dir() + "/fd-report"; }

TEST(RunEnvironment, ServiceGetsACleanEnvironmentNotTheCallers) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // TERM passes only when stdin is a terminal; here it is a pipe.
  CommandResult result =
      env.run({"--", "/usr/bin/env"}, {"FOO=bar", "TERM=xterm", "PATH=/caller/bin:/usr/bin"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto vars = parse_assignments(result.out);
  EXPECT_EQ(vars.count("FOO"), 0u) << result.out;
  EXPECT_EQ(vars.count("TERM"), 0u) << result.out;
  EXPECT_EQ(vars.count("HOME"), 0u) << "HOME is set only with User=: " << result.out;
  EXPECT_EQ(vars.count("USER"), 0u) << result.out;
  EXPECT_EQ(vars["PATH"], "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  EXPECT_TRUE(is_invocation_id(vars["INVOCATION_ID"])) << vars["INVOCATION_ID"];
  EXPECT_EQ(vars.size(), 2u) << "only PATH and INVOCATION_ID:\n" << result.out;
}

TEST(RunEnvironment, UserSetsUserLognameHomeAndShell) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"-p", "User=nobody", "--", "/usr/bin/env"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto vars = parse_assignments(result.out);
  EXPECT_EQ(vars["USER"], "nobody");
  EXPECT_EQ(vars["LOGNAME"], "nobody");
  EXPECT_EQ(vars["HOME"], "/nonexistent");
  EXPECT_EQ(vars["SHELL"], "/usr/sbin/nologin");
}

TEST(RunEnvironment, EnvironmentFileWinsOverEnvironment) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string file = env.tmp / "service.env";
  write_file(file, "SHARED=from-file\nONLY_FILE=yes\n");
  std::string unit = env.write_unit("envs.service", "Environment=SHARED=from-directive "
                                                    "ONLY_DIRECTIVE=yes\n"
                                                    "EnvironmentFile=" +
                                                        file + "\nExecStart=/usr/bin/env\n");
  CommandResult result = env.run({unit});
  ASSERT_EQ(result.status, 0) << result.err;
  auto vars = parse_assignments(result.out);
  EXPECT_EQ(vars["SHARED"], "from-file");
  EXPECT_EQ(vars["ONLY_FILE"], "yes");
  EXPECT_EQ(vars["ONLY_DIRECTIVE"], "yes");
}

TEST(RunEnvironment, ExecStartExpandsTheServicesVariables) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // systemd: "$NAME" as a whole word, "${NAME}" anywhere, "$$" is a literal '$'; the values
  // come from the service's environment, never the caller's.
  std::string unit = env.write_unit(
      "expand.service", "Environment=GREETING=hello \"TWO=a b\"\n"
                        "ExecStart=/bin/echo ${GREETING}-x $TWO $$literal $CALLER_ONLY\n");
  CommandResult result = env.run({unit}, {"CALLER_ONLY=leaked"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "hello-x a b $literal\n");
}

TEST(RunEnvironment, NotifySocketPassesThrough) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result =
      env.run({"--", "/usr/bin/env"}, {"NOTIFY_SOCKET=/run/ringfence-test/notify"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(parse_assignments(result.out)["NOTIFY_SOCKET"], "/run/ringfence-test/notify");
}

TEST(RunEnvironment, StdinAndStdoutPassThrough) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string data = "first line\nsecond line\n";
  CommandResult result = env.run({"--", "/bin/cat"}, {}, data);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, data);
}

TEST(RunEnvironment, StderrPassesThrough) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string script = env.write_script("to-stderr.sh", "echo to-stderr >&2\n");
  CommandResult result = env.run({"--", script});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.err.find("to-stderr"), std::string::npos) << result.err;
}

TEST(RunEnvironment, ServiceInheritsOnlyStandardDescriptors) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // A descriptor ringfence inherits without close-on-exec must still not reach the service.
  int stray = ::open("/dev/null", O_RDONLY); // deliberately inheritable
  ASSERT_GT(stray, 2);
  CommandResult result = env.run({"--", fd_report()});
  ::close(stray);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(parse_assignments(result.out)["fds"], "0,1,2") << result.out;
}

// ringfence started through `sh -c 'export LISTEN_PID=$$; exec ringfence ...'`, so that LISTEN_PID
// names ringfence's own pid, with a socket as descriptor 3.
struct SocketActivated {
  CommandResult result;
  std::map<std::string, std::string> report;
};

SocketActivated run_socket_activated(const LaunchEnv &env, const std::string &listen_pid) {
  int sockets[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets), 0);
  std::vector<std::string> argv = {"/bin/sh", "-c", "export LISTEN_PID=" + listen_pid + "; exec \"$@\"",
                                   "sh"};
  for (const std::string &word : env.run_argv({"--", fd_report()}))
    argv.push_back(word);
  Background ringfence(argv, {"LISTEN_FDS=1", "LISTEN_FDNAMES=test-socket"},
                       env.tmp / "activated.out", env.tmp / "activated.err",
                       {{sockets[0], 3}});
  SocketActivated activated;
  activated.result.status = ringfence.wait_exit().value_or(-1);
  activated.result.out = read_file(env.tmp / "activated.out");
  activated.result.err = read_file(env.tmp / "activated.err");
  activated.report = parse_assignments(activated.result.out);
  ::close(sockets[0]);
  ::close(sockets[1]);
  return activated;
}

TEST(RunEnvironment, ListenFdsPassWhenListenPidNamesRingfence) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  SocketActivated activated = run_socket_activated(env, "$$");
  ASSERT_EQ(activated.result.status, 0) << activated.result.err;
  EXPECT_EQ(activated.report["fds"], "0,1,2,3") << activated.result.out;
  EXPECT_EQ(activated.report["LISTEN_FDS"], "1");
  EXPECT_EQ(activated.report["LISTEN_FDNAMES"], "test-socket");
  EXPECT_EQ(activated.report["LISTEN_PID"], activated.report["pid"])
      << "LISTEN_PID must name the service itself";
}

TEST(RunEnvironment, ListenFdsAreDroppedWhenListenPidNamesAnotherProcess) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  SocketActivated activated = run_socket_activated(env, "1");
  ASSERT_EQ(activated.result.status, 0) << activated.result.err;
  EXPECT_EQ(activated.report["fds"], "0,1,2") << activated.result.out;
  EXPECT_EQ(activated.report["LISTEN_FDS"], "(unset)");
  EXPECT_EQ(activated.report["LISTEN_PID"], "(unset)");
}

TEST(RunEnvironment, UnitNameIsFoundOnTheUnitPath) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  env.write_unit("found.service", "ExecStart=/bin/echo found-on-path\n");
  std::vector<std::string> unit_path = {"RINGFENCE_UNIT_PATH=" + env.tmp / "units"};
  CommandResult by_name = env.run({"found"}, unit_path);
  EXPECT_EQ(by_name.status, 0) << by_name.err;
  EXPECT_EQ(by_name.out, "found-on-path\n");
  CommandResult by_full_name = env.run({"found.service"}, unit_path);
  EXPECT_EQ(by_full_name.status, 0) << by_full_name.err;
  EXPECT_EQ(by_full_name.out, "found-on-path\n");
}

TEST(RunEnvironment, ArgsAfterDoubleDashAreAppendedToExecStart) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string unit = env.write_unit("echo.service", "ExecStart=/bin/echo from-unit\n");
  CommandResult result = env.run({unit, "--", "second", "third"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "from-unit second third\n");
}

} // namespace
} // namespace rf::test
