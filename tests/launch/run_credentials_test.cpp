// `ringfence run`: who the service runs as. The service is `cat /proc/self/status` exec'd
// directly, so the status printed is the main process's own. Needs root.
#include "launch/launch_support.hpp"

#include <filesystem>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>

namespace rf::test {
namespace {

// The service's /proc/self/status, from an ad-hoc run with these -p properties.
std::string service_status(const LaunchEnv &env, const std::vector<std::string> &properties) {
  std::vector<std::string> args;
  for (const std::string &property : properties) {
    args.push_back("-p");
    args.push_back(property);
  }
  args.insert(args.end(), {"--", "/bin/cat", "/proc/self/status"});
  CommandResult result = env.run(args);
  EXPECT_EQ(result.status, 0) << result.err;
  return result.out;
}

gid_t group_id(const char *name) {
  const group *entry = getgrnam(name);
  EXPECT_NE(entry, nullptr) << "no group " << name;
  return entry ? entry->gr_gid : 0;
}

// "Uid:\t65534\t65534\t65534\t65534" → every one of real, effective, saved, fs is `id`.
void expect_all_ids(const std::string &field_value, unsigned id) {
  std::string expected;
  for (int i = 0; i < 4; ++i)
    expected += (i ? "\t" : "") + std::to_string(id);
  EXPECT_EQ(field_value, expected);
}

TEST(RunCredentials, DefaultServiceRunsAsRootWithNoNewPrivsAndUmask0022) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status = service_status(env, {});
  expect_all_ids(status_field(status, "Uid"), 0);
  expect_all_ids(status_field(status, "Gid"), 0);
  EXPECT_EQ(status_field(status, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(status, "Umask"), "0022");
  EXPECT_EQ(status_field(status, "CapBnd"), cap_mask_text(caller_bounding_set()))
      << "no filter and no CapabilityBoundingSet=: the bounding set stays as it was";
  EXPECT_EQ(status_field(status, "CapAmb"), cap_mask_text(0));
}

TEST(RunCredentials, UserNobodySetsEveryUidAndGidTo65534) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status = service_status(env, {"User=nobody"});
  const passwd *nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  expect_all_ids(status_field(status, "Uid"), nobody->pw_uid);
  expect_all_ids(status_field(status, "Gid"), nobody->pw_gid);
  // As systemd (getgrouplist): the group list is the user's groups, which include its
  // primary group; nobody is in no other group.
  EXPECT_EQ(status_field(status, "Groups"), std::to_string(nobody->pw_gid));
  EXPECT_EQ(status_field(status, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(status, "CapEff"), cap_mask_text(0));
}

TEST(RunCredentials, GroupSetsThePrimaryGroup) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status = service_status(env, {"User=nobody", "Group=users"});
  expect_all_ids(status_field(status, "Gid"), group_id("users"));
}

TEST(RunCredentials, SupplementaryGroupsBecomeTheGroupList) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status = service_status(env, {"User=nobody", "SupplementaryGroups=adm users"});
  std::string groups = " " + status_field(status, "Groups") + " ";
  EXPECT_NE(groups.find(" " + std::to_string(group_id("adm")) + " "), std::string::npos)
      << groups;
  EXPECT_NE(groups.find(" " + std::to_string(group_id("users")) + " "), std::string::npos)
      << groups;
  EXPECT_EQ(groups.find(" 0 "), std::string::npos) << "root's group must be gone: " << groups;
}

TEST(RunCredentials, UMaskSetsTheServiceUmask) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  EXPECT_EQ(status_field(service_status(env, {"UMask=0077"}), "Umask"), "0077");
}

TEST(RunCredentials, DefaultUmaskIs0022WhateverTheCallersUmask) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::vector<std::string> argv = {"/bin/sh", "-c", "umask 077; exec \"$@\"", "sh"};
  for (const std::string &word : env.run_argv({"--", "/bin/cat", "/proc/self/status"}))
    argv.push_back(word);
  CommandResult result = run_command(argv);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(status_field(result.out, "Umask"), "0022");
}

TEST(RunCredentials, CapabilityBoundingSetKeepsExactlyTheNamedCapabilities) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status =
      service_status(env, {"CapabilityBoundingSet=CAP_NET_BIND_SERVICE CAP_CHOWN"});
  std::uint64_t expected = (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_CHOWN);
  EXPECT_EQ(status_field(status, "CapBnd"), cap_mask_text(expected));
  EXPECT_EQ(status_field(status, "CapEff"), cap_mask_text(expected))
      << "root keeps only what the bounding set allows";
}

TEST(RunCredentials, TildeCapabilityBoundingSetDropsTheNamedCapabilities) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status = service_status(env, {"CapabilityBoundingSet=~CAP_SYS_ADMIN CAP_BPF"});
  std::uint64_t expected =
      caller_bounding_set() & ~((1ULL << CAP_SYS_ADMIN) | (1ULL << CAP_BPF));
  EXPECT_EQ(status_field(status, "CapBnd"), cap_mask_text(expected));
}

TEST(RunCredentials, IpFilterDropsTheEscapeCapabilitiesByDefault) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // No traffic: the service only reads its own status.
  std::string status = service_status(env, {"IPAddressDeny=any"});
  EXPECT_EQ(status_field(status, "CapBnd"),
            cap_mask_text(caller_bounding_set() & ~escape_capabilities_mask()));
}

TEST(RunCredentials, CapabilityBoundingSetGivesBackWhatAFilterWouldDrop) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status =
      service_status(env, {"IPAddressDeny=any", "CapabilityBoundingSet=CAP_SYS_ADMIN"});
  EXPECT_EQ(status_field(status, "CapBnd"), cap_mask_text(1ULL << CAP_SYS_ADMIN));
}

TEST(RunCredentials, AmbientCapabilitiesReachAnUnprivilegedUser) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string status =
      service_status(env, {"User=nobody", "AmbientCapabilities=CAP_NET_BIND_SERVICE"});
  std::string bit = cap_mask_text(1ULL << CAP_NET_BIND_SERVICE);
  EXPECT_EQ(status_field(status, "CapAmb"), bit);
  EXPECT_EQ(status_field(status, "CapEff"), bit);
  expect_all_ids(status_field(status, "Uid"), 65534);
}

TEST(RunCredentials, NoNewPrivilegesNoIsRefusedAndNothingRuns) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string marker = env.tmp / "ran";
  CommandResult result =
      env.run({"-p", "NoNewPrivileges=no", "--", "/usr/bin/touch", marker});
  EXPECT_EQ(result.status, 125) << result.err;
  EXPECT_FALSE(std::filesystem::exists(marker)) << "the command must not have run";
  EXPECT_EQ(split_lines(result.err).size(), 1u)
      << "cli-contract: exit 125 comes with one line on stderr saying what and why:\n"
      << result.err;
}

TEST(RunCredentials, UnknownUserIsRefusedWithOneLine) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string unit = env.write_unit("unknown-user.service",
                                    "User=no-such-user-ringfence\nExecStart=/bin/true\n");
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 125);
  ASSERT_EQ(split_lines(result.err).size(), 1u) << result.err;
  EXPECT_EQ(result.err.rfind("ringfence: ", 0), 0u) << result.err;
  EXPECT_NE(result.err.find("unknown-user"), std::string::npos) << result.err;
}

TEST(RunCredentials, DefaultWorkingDirectoryIsTheRootNotTheCallers) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::vector<std::string> argv = {"/bin/sh", "-c", "cd /usr && exec \"$@\"", "sh"};
  for (const std::string &word : env.run_argv({"--", "/bin/pwd"}))
    argv.push_back(word);
  CommandResult result = run_command(argv);
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "/\n");
}

TEST(RunCredentials, WorkingDirectoryIsTheServiceCwd) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::string dir = env.tmp / "work";
  std::filesystem::create_directories(dir);
  CommandResult result = env.run({"-p", "WorkingDirectory=" + dir, "--", "/bin/pwd"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, dir + "\n");
}

TEST(RunCredentials, WorkingDirectoryTheUserCannotEnterFailsTheSetupStep) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // The TempDir is 0700 root: root could enter it, nobody cannot. chdir must happen as
  // the service's user, after the switch.
  std::string dir = env.tmp / "private";
  std::filesystem::create_directories(dir);
  std::string marker = env.tmp / "ran";
  std::string unit = env.write_unit("private-cwd.service", "User=nobody\nWorkingDirectory=" +
                                                               dir + "\nExecStart=/bin/true\n");
  CommandResult result = env.run({unit});
  EXPECT_EQ(result.status, 125);
  ASSERT_EQ(split_lines(result.err).size(), 1u) << result.err;
  EXPECT_EQ(result.err.rfind("ringfence: ", 0), 0u) << result.err;
  EXPECT_NE(result.err.find("private-cwd"), std::string::npos) << result.err;
}

TEST(RunCredentials, NonRootCallerIsRefusedWithOneLine) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // The caller may not even reach the audit log or the cgroup: it must stop before both.
  CommandResult result = run_command({"/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
                                      "--clear-groups", ringfence_bin(), "run", "--cgroup-parent",
                                      env.parent.relative(), "--", "/bin/true"});
  EXPECT_EQ(result.status, 125);
  EXPECT_EQ(split_lines(result.err).size(), 1u) << result.err;
  EXPECT_EQ(result.err.rfind("ringfence: ", 0), 0u) << result.err;
  EXPECT_TRUE(env.parent.children().empty());
}

} // namespace
} // namespace rf::test
