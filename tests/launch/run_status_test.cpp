// `ringfence run`: its exit status, and the start/exit records of the audit log.
// Needs root.
#include "launch/launch_support.hpp"

#include <filesystem>
#include <regex>
#include <sys/stat.h>

namespace rf::test {
namespace {

TEST(RunStatus, ServiceExitStatusIsReturned) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"--", "/bin/sh", "-c", "exit 7"});
  EXPECT_EQ(result.status, 7) << result.err;
}

TEST(RunStatus, ServiceKilledBySignalGives128PlusSignal) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string script = env.write_script("self-term.sh", "kill -TERM $$\n");
  CommandResult result = env.run({"--", script});
  EXPECT_EQ(result.status, 128 + SIGTERM) << result.err;
}

TEST(RunStatus, ServiceKilledBySigkillGives137) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string script = env.write_script("self-kill.sh", "kill -KILL $$\n");
  CommandResult result = env.run({"--", script});
  EXPECT_EQ(result.status, 128 + SIGKILL) << result.err;
  auto exits = audit_records(env.audit_log, "exit");
  ASSERT_EQ(exits.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(exits[0], "status"), std::to_string(128 + SIGKILL)) << exits[0];
}

TEST(RunStatus, CommandThatIsNotExecutableGives126) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string file = env.tmp / "not-executable";
  write_file(file, "#!/bin/sh\nexit 0\n", 0644);
  CommandResult result = env.run({"--", file});
  EXPECT_EQ(result.status, 126) << result.err;
}

TEST(RunStatus, CommandThatDoesNotExistGives127) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"--", env.tmp / "no-such-command"});
  EXPECT_EQ(result.status, 127) << result.err;
}

TEST(RunStatus, UnitThatDoesNotExistGives125WithOneLine) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({env.tmp / "units/missing.service"});
  EXPECT_EQ(result.status, 125);
  EXPECT_EQ(split_lines(result.err).size(), 1u) << result.err;
  EXPECT_EQ(result.err.rfind("ringfence: ", 0), 0u) << result.err;
}

TEST(RunStatus, UnitExecStartStatusIsReturned) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string unit = env.write_unit("fails.service", "ExecStart=/bin/sh -c \"exit 9\"\n");
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 9) << result.err;
}

TEST(RunStatus, UnitNameThatWouldLeaveTheParentIsRefused) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // The cgroup is "<parent>/<unit>-<id>": a '/' in the name would put it elsewhere.
  CommandResult result =
      env.run({"--unit-name", "../escaped.service", "--", "/bin/true"});
  EXPECT_EQ(result.status, 125) << result.err;
  std::string above = env.parent.absolute().substr(0, env.parent.absolute().rfind('/'));
  for (const auto &entry : std::filesystem::directory_iterator(above))
    EXPECT_NE(entry.path().filename().string().rfind("escaped.service-", 0), 0u)
        << entry.path();
}

TEST(RunStatus, CgroupParentWithDotDotIsRefused) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result =
      run_command({ringfence_bin(), "run", "--audit-log", env.audit_log, "--cgroup-parent",
                   env.parent.relative() + "/../elsewhere", "--", "/bin/true"});
  EXPECT_EQ(result.status, 125) << result.err;
  EXPECT_FALSE(std::filesystem::exists(cgroup2_mount() + "/elsewhere"));
}

// Trust: a unit that someone other than root could have written is not run.
TEST(RunTrust, GroupOrWorldWritableUnitFileIsRefused) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string marker = env.tmp / "ran";
  std::string unit = env.write_unit("writable.service", "ExecStart=/usr/bin/touch " + marker +
                                                            "\n");
  ::chmod(unit.c_str(), 0666);
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 125) << result.err;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the untrusted unit ran";
}

TEST(RunTrust, UnitInAWorldWritableDirectoryIsRefused) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string marker = env.tmp / "ran";
  std::string unit = env.write_unit("in-open-dir.service", "ExecStart=/usr/bin/touch " +
                                                               marker + "\n");
  ::chmod((env.tmp / "units").c_str(), 0777);
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 125) << result.err;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the untrusted unit ran";
}

TEST(RunAudit, StartRecordDescribesTheRun) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result =
      env.run({"--unit-name", "audited.service", "--", "/bin/sh", "-c", "exit 3"});
  ASSERT_EQ(result.status, 3) << result.err;

  auto starts = audit_records(env.audit_log, "start");
  ASSERT_EQ(starts.size(), 1u) << read_file(env.audit_log);
  const std::string &start = starts[0];
  EXPECT_TRUE(std::regex_match(json_field(start, "time").value_or(""),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << start;
  EXPECT_EQ(json_field(start, "unit"), "audited.service") << start;
  std::string invocation = json_field(start, "invocation").value_or("");
  EXPECT_TRUE(is_invocation_id(invocation)) << start;
  EXPECT_TRUE(std::regex_match(json_field(start, "pid").value_or(""), std::regex(R"([1-9]\d*)")))
      << start;
  EXPECT_FALSE(json_field(start, "comm").value_or("").empty()) << start;
  std::string command = json_field(start, "command").value_or("");
  EXPECT_TRUE(std::regex_match(
      command, std::regex(R"(\[\s*"/bin/sh"\s*,\s*"-c"\s*,\s*"exit 3"\s*\])")))
      << start;
  EXPECT_EQ(json_field(start, "cgroup"),
            env.parent.relative() + "/audited.service-" + invocation)
      << start;
}

TEST(RunAudit, ExitRecordHasStatusDurationAndExecStage) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result =
      env.run({"--unit-name", "audited.service", "--", "/bin/sh", "-c", "exit 3"});
  ASSERT_EQ(result.status, 3) << result.err;

  auto starts = audit_records(env.audit_log, "start");
  auto exits = audit_records(env.audit_log, "exit");
  ASSERT_EQ(exits.size(), 1u) << read_file(env.audit_log);
  const std::string &exit = exits[0];
  EXPECT_EQ(json_field(exit, "status"), "3") << exit;
  EXPECT_EQ(json_field(exit, "stage"), "exec") << exit;
  EXPECT_TRUE(std::regex_match(json_field(exit, "duration_ms").value_or(""),
                               std::regex(R"(\d+(\.\d+)?)")))
      << exit;
  EXPECT_EQ(json_field(exit, "unit"), "audited.service") << exit;
  ASSERT_EQ(starts.size(), 1u);
  EXPECT_EQ(json_field(exit, "invocation"), json_field(starts[0], "invocation"));
}

TEST(RunAudit, InvocationIsTheServicesInvocationId) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"--", "/usr/bin/env"});
  ASSERT_EQ(result.status, 0) << result.err;
  auto starts = audit_records(env.audit_log, "start");
  ASSERT_EQ(starts.size(), 1u) << read_file(env.audit_log);
  std::string invocation = json_field(starts[0], "invocation").value_or("(none)");
  EXPECT_NE(result.out.find("INVOCATION_ID=" + invocation + "\n"), std::string::npos)
      << result.out;
}

TEST(RunAudit, FailedSetupStepIsTheExitStageWithStatus125) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string dir = env.tmp / "private"; // 0700 root inside the 0700 TempDir
  std::filesystem::create_directories(dir);
  CommandResult result =
      env.run({"-p", "User=nobody", "-p", "WorkingDirectory=" + dir, "--", "/bin/true"});
  ASSERT_EQ(result.status, 125) << result.err;
  auto exits = audit_records(env.audit_log, "exit");
  ASSERT_EQ(exits.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(exits[0], "status"), "125") << exits[0];
  std::string stage = json_field(exits[0], "stage").value_or("");
  EXPECT_FALSE(stage.empty()) << exits[0];
  EXPECT_NE(stage, "exec") << "the command never ran: " << exits[0];
}

TEST(RunAudit, RecordsOfSeveralRunsAreAppended) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  ASSERT_EQ(env.run({"--", "/bin/true"}).status, 0);
  ASSERT_EQ(env.run({"--", "/bin/true"}).status, 0);
  auto starts = audit_records(env.audit_log, "start");
  ASSERT_EQ(starts.size(), 2u) << read_file(env.audit_log);
  EXPECT_NE(json_field(starts[0], "invocation"), json_field(starts[1], "invocation"))
      << "every run has its own invocation id";
  EXPECT_EQ(audit_records(env.audit_log, "exit").size(), 2u);
}

} // namespace
} // namespace rf::test
