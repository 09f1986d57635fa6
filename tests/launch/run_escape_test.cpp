// A root service tries to leave its sandbox (tests/helpers/escape_attacker.cpp): every
// attempt must fail, and it must still be in its own cgroup afterwards. Needs root.
#include "launch/launch_support.hpp"

#include <map>

namespace rf::test {
namespace {

// What a unit with a filter gets by default, given explicitly so the test needs no filter.
const std::string kDropEscapeCapabilities =
    std::string("CapabilityBoundingSet=") + kEscapeCapabilityDropList + "\n";

const char *const kAttempts[] = {
    "write-cgroup-mount-procs",
    "write-parent-cgroup-procs",
    "write-init-root-cgroup-procs",
    "write-supervisor-root-cgroup-procs",
    "mount-cgroup2",
    "remount-cgroup-rw",
    "umount-cgroup",
    "bpf-prog-detach",
    "bpf-prog-get-next-id",
    "write-unit-file",
    "write-audit-log",
    "userns-mount-cgroup2",
    "userns-cgroupns-leave-subtree",
};

// "name: result" lines of the attacker's report, by name.
std::map<std::string, std::string> parse_report(const std::string &out) {
  std::map<std::string, std::string> report;
  for (const std::string &line : split_lines(out)) {
    std::size_t colon = line.find(": ");
    if (colon != std::string::npos)
      report[line.substr(0, colon)] = line.substr(colon + 2);
  }
  return report;
}

// Runs the attacker as root under a unit with `sandbox_lines` and checks that every attempt
// failed and that nothing of the sandbox changed.
void expect_attacker_contained(const std::string &sandbox_lines) {
  LaunchEnv env;
  // The audit log must exist before the run for the attacker to have something to forge.
  write_file(env.audit_log, "", 0640);
  std::string unit_path = env.tmp / "units/escape.service";
  std::string unit = env.write_unit(
      "escape.service", sandbox_lines + "ExecStart=" + helpers_dir() + "/escape-attacker " +
                            cgroup2_mount() + " " + env.parent.relative() + " " + unit_path +
                            " " + env.audit_log + "\n");
  std::string unit_before = read_file(unit);
  CommandResult result = env.run({unit});
  ASSERT_EQ(result.status, 0) << result.out << result.err;

  auto report = parse_report(result.out);
  for (const char *attempt : kAttempts) {
    ASSERT_EQ(report.count(attempt), 1u) << attempt << " not reported:\n" << result.out;
    EXPECT_NE(report[attempt], "ok") << "escape: " << attempt << " worked";
  }
  EXPECT_EQ(report["cgroup-after"], "/") << "the service left its cgroup";
  EXPECT_EQ(report["child-cgroup-after"], "/") << "the user-namespace child left its cgroup";
  EXPECT_EQ(report["cgroupns-child-cgroup-after"], "/")
      << "the cgroup-namespace child left its cgroup";
  EXPECT_EQ(read_file(unit), unit_before) << "the service rewrote its unit file";
  EXPECT_EQ(read_file(env.audit_log).find("forged"), std::string::npos)
      << "the service wrote to the audit log";
}

TEST(RunEscape, RootServiceWithoutEscapeCapabilitiesCannotLeaveItsSandbox) {
  RF_REQUIRE_ROOT();
  expect_attacker_contained(kDropEscapeCapabilities);
}

TEST(RunEscape, RootServiceWithAnIpFilterCannotLeaveItsSandbox) {
  RF_REQUIRE_ROOT();
  // The default bounding set of a filtered unit; the attacker sends no traffic at all.
  expect_attacker_contained("IPAddressDeny=any\n");
}

TEST(RunEscape, RootServiceWithASeccompFilterCannotLeaveItsSandbox) {
  RF_REQUIRE_ROOT();
  // A deny list that leaves every call the attacker makes allowed: what must stop it is
  // the default bounding set of a filtered unit, not the filter.
  expect_attacker_contained("SystemCallFilter=~@reboot\n");
}

TEST(RunEscape, UnitFileAndAuditLogAreReadOnlyForTheServiceNotHidden) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // The escape test above would also pass if the files were simply absent from the
  // service's view; the design says they are there, read-only.
  write_file(env.audit_log, "", 0640);
  std::string unit_path = env.tmp / "units/probe.service";
  std::string script = env.write_script(
      "probe.sh", "for f in " + unit_path + " " + env.audit_log +
                      "; do\n"
                      "  test -r \"$f\" && echo \"$f: readable\"\n"
                      "  if ( : >>\"$f\" ) 2>/dev/null; then echo \"$f: writable\"; "
                      "else echo \"$f: read-only\"; fi\n"
                      "done\n");
  std::string unit = env.write_unit(
      "probe.service", kDropEscapeCapabilities + "ExecStart=" + script + "\n");
  CommandResult result = env.run({unit});
  ASSERT_EQ(result.status, 0) << result.err;
  for (const std::string &file : {unit_path, env.audit_log}) {
    EXPECT_NE(result.out.find(file + ": readable\n"), std::string::npos) << result.out;
    EXPECT_NE(result.out.find(file + ": read-only\n"), std::string::npos) << result.out;
  }
}

TEST(VerifyEscape, FilterWithCapSysAdminInTheBoundingSetIsWarnedAbout) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string unit = env.write_unit("leaky.service", "ExecStart=/bin/true\n"
                                                     "IPAddressDeny=any\n"
                                                     "CapabilityBoundingSet=CAP_SYS_ADMIN "
                                                     "CAP_NET_BIND_SERVICE\n");
  CommandResult result = run_command({ringfence_bin(), "verify", unit});
  EXPECT_EQ(result.status, 0) << result.err;
  bool warned = false;
  for (const std::string &line : split_lines(result.out + result.err))
    warned |= line.find("warning:") != std::string::npos &&
              line.find("CAP_SYS_ADMIN") != std::string::npos;
  EXPECT_TRUE(warned) << "stdout:\n" << result.out << "stderr:\n" << result.err;
}

TEST(VerifyEscape, FilterWithTheDefaultBoundingSetIsNotWarnedAbout) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string unit = env.write_unit("tight.service", "ExecStart=/bin/true\nIPAddressDeny=any\n");
  CommandResult result = run_command({ringfence_bin(), "verify", unit});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ((result.out + result.err).find("CAP_SYS_ADMIN"), std::string::npos)
      << result.out << result.err;
}

} // namespace
} // namespace rf::test
