// `ringfence run`: the invocation cgroup — where the service is placed, what marks the
// cgroup, what the service sees of it — and that nothing outlives a run. Needs root.
#include "launch/launch_support.hpp"

#include <cstring>
#include <filesystem>
#include <sys/stat.h>
#include <sys/xattr.h>

namespace rf::test {
namespace {

std::string xattr(const std::string &path, const std::string &name) {
  char value[256];
  ssize_t n = ::getxattr(path.c_str(), name.c_str(), value, sizeof value);
  return n < 0 ? "(" + std::string(std::strerror(errno)) + ")"
               : std::string(value, static_cast<std::size_t>(n));
}

ino_t namespace_inode(const std::string &link) {
  struct stat st {};
  return ::stat(link.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(RunCgroup, ServiceStartsInItsInvocationCgroupUnderTheParent) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script = env.write_script(
      "placed.sh", "echo $$ $INVOCATION_ID >" + events.path() + "\nexec sleep 1000.201\n");
  Background ringfence = env.start({"--unit-name", "placed.service", "--", script});
  std::optional<std::string> line = events.read_line();
  ASSERT_TRUE(line) << read_file(env.tmp / "ringfence.err");
  std::size_t space = line->find(' ');
  pid_t service = static_cast<pid_t>(std::stol(line->substr(0, space)));
  std::string invocation = line->substr(space + 1);

  EXPECT_TRUE(is_invocation_id(invocation)) << invocation;
  EXPECT_EQ(cgroup_of(service), env.parent.relative() + "/placed.service-" + invocation);
  EXPECT_EQ(env.parent.children(),
            std::vector<std::string>{"placed.service-" + invocation});
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
}

TEST(RunCgroup, InvocationCgroupCarriesInvocationIdAndSupervisorXattrs) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script = env.write_script(
      "placed.sh", "echo $INVOCATION_ID >" + events.path() + "\nexec sleep 1000.202\n");
  Background ringfence = env.start({"--unit-name", "marked.service", "--", script});
  std::string invocation = events.read_line().value_or("");
  ASSERT_TRUE(is_invocation_id(invocation)) << read_file(env.tmp / "ringfence.err");

  std::string cgroup = env.parent.absolute() + "/marked.service-" + invocation;
  EXPECT_EQ(xattr(cgroup, "trusted.invocation_id"), invocation);
  EXPECT_EQ(xattr(cgroup, "trusted.ringfence.supervisor"),
            std::to_string(ringfence.pid()) + " " + process_starttime(ringfence.pid()));
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
}

// ringfence(8): a service that could write to the cgroup file system (root) but cannot undo
// mounts (no CAP_SYS_ADMIN) gets the private namespaces; others do without them.
const std::vector<std::string> kRootWithoutEscapeCapabilities = {
    "-p", std::string("CapabilityBoundingSet=") + kEscapeCapabilityDropList};

std::vector<std::string> operator+(std::vector<std::string> words,
                                   const std::vector<std::string> &more) {
  words.insert(words.end(), more.begin(), more.end());
  return words;
}

TEST(RunCgroup, ServiceHasPrivateMountAndCgroupNamespaces) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script =
      env.write_script("ns.sh", "echo $$ >" + events.path() + "\nexec sleep 1000.203\n");
  Background ringfence = env.start(kRootWithoutEscapeCapabilities + std::vector<std::string>{"--", script});
  std::optional<std::string> pid = events.read_line();
  ASSERT_TRUE(pid) << read_file(env.tmp / "ringfence.err");

  for (const char *ns : {"mnt", "cgroup"}) {
    ino_t own = namespace_inode(std::string("/proc/self/ns/") + ns);
    ino_t service = namespace_inode("/proc/" + *pid + "/ns/" + ns);
    EXPECT_NE(service, 0u);
    EXPECT_NE(service, own) << ns << " namespace is shared with the caller";
  }
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
}

TEST(RunCgroup, ServiceSeesOnlyItsOwnCgroupSubtreeReadOnly) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script = env.write_script(
      "view.sh", "echo $$ $INVOCATION_ID >" + events.path() + "\n" +
                     "grep '^0::' /proc/self/cgroup >" + events.path() + "\n" +
                     "exec sleep 1000.204\n");
  Background ringfence = env.start(kRootWithoutEscapeCapabilities +
                                   std::vector<std::string>{"--unit-name", "view.service", "--",
                                                            script});
  std::optional<std::string> line = events.read_line();
  ASSERT_TRUE(line) << read_file(env.tmp / "ringfence.err");
  std::string pid = line->substr(0, line->find(' '));
  std::string invocation = line->substr(line->find(' ') + 1);
  EXPECT_EQ(events.read_line(), "0::/") << "its cgroup namespace is rooted at its cgroup";

  // mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... - FSTYPE SOURCE SUPEROPTS".
  // Read from outside, ROOT is the path of the cgroup the mount shows.
  std::string mount_point = cgroup2_mount();
  // Mounts stack: the one the service sees at the mount point is the last one listed.
  std::vector<std::string> top;
  for (const std::string &entry : split_lines(read_file("/proc/" + pid + "/mountinfo"))) {
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (start <= entry.size() && fields.size() < 6) {
      std::size_t end = entry.find(' ', start);
      fields.push_back(entry.substr(start, end - start));
      start = end == std::string::npos ? entry.size() + 1 : end + 1;
    }
    if (fields.size() == 6 && fields[4] == mount_point)
      top = fields;
  }
  ASSERT_EQ(top.size(), 6u) << "no mount at " << mount_point << " in the service";
  EXPECT_EQ(top[3], env.parent.relative() + "/view.service-" + invocation)
      << "the mount must show the service's own cgroup, not the hierarchy";
  EXPECT_NE(("," + top[5] + ",").find(",ro,"), std::string::npos)
      << "the cgroup mount must be read-only: " << top[5];
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
}

TEST(RunCgroup, CgroupParentComesFromTheEnvironmentToo) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result =
      run_command({ringfence_bin(), "run", "--audit-log", env.audit_log, "--", "/bin/true"},
                  {"RINGFENCE_CGROUP_PARENT=" + env.parent.relative()});
  ASSERT_EQ(result.status, 0) << result.err;
  auto starts = audit_records(env.audit_log, "start");
  ASSERT_EQ(starts.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(starts[0], "cgroup").value_or("").rfind(env.parent.relative() + "/", 0),
            0u)
      << starts[0];
}

// Under systemd with Delegate=yes, the cgroup ringfence runs in is marked as delegated
// (trusted.delegate=1), and the runs' cgroups go below it rather than to /ringfence.
TEST(RunCgroup, DelegatedCgroupOfTheCallerIsTheDefaultParent) {
  RF_REQUIRE_ROOT();
  LaunchEnv env; // its parent is the delegated cgroup here, entered by the caller itself
  const char one = '1';
  ::mkdir(env.parent.absolute().c_str(), 0755); // RunParent leaves creating it to ringfence
  ASSERT_EQ(::setxattr(env.parent.absolute().c_str(), "trusted.delegate", &one, 1, 0), 0)
      << std::strerror(errno);
  std::string script = env.write_script(
      "enter.sh", "echo $$ > " + env.parent.absolute() + "/cgroup.procs || exit 99\n"
                  "exec " + ringfence_bin() + " run --audit-log " + env.audit_log +
                  " -- /bin/true\n");
  CommandResult result = run_command({script});
  ASSERT_EQ(result.status, 0) << result.err;
  auto starts = audit_records(env.audit_log, "start");
  ASSERT_EQ(starts.size(), 1u) << read_file(env.audit_log);
  std::string cgroup = json_field(starts[0], "cgroup").value_or("");
  EXPECT_EQ(cgroup.rfind(env.parent.relative() + "/true.service-", 0), 0u) << starts[0];
  EXPECT_TRUE(env.parent.children().empty()); // removed after the run
}

TEST(RunCgroup, AdHocRunIsNamedAfterTheCommand) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  ASSERT_EQ(env.run({"--", "/bin/true"}).status, 0);
  auto starts = audit_records(env.audit_log, "start");
  ASSERT_EQ(starts.size(), 1u) << read_file(env.audit_log);
  EXPECT_EQ(json_field(starts[0], "unit"), "true.service");
  EXPECT_EQ(json_field(starts[0], "cgroup").value_or("").rfind(
                env.parent.relative() + "/true.service-", 0),
            0u)
      << starts[0];
}

TEST(RunTeardown, ProcessesLeftBehindAreKilledAndTheCgroupRemoved) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.run({"--", "/bin/sh", "-c", "sleep 1000.123 & exit 0"});
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_TRUE(pids_with_argument("1000.123").empty()) << "the background sleep survived";
  EXPECT_TRUE(env.parent.children().empty()) << "the invocation cgroup was not removed";
}

TEST(RunTeardown, ServiceKilledBySignalLeavesNothingBehind) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script = env.write_script("bg.sh", "sleep 1000.124 &\necho ready >" +
                                                     events.path() + "\nexec sleep 1000.125\n");
  Background ringfence = env.start({"--", script});
  ASSERT_EQ(events.read_line(), "ready") << read_file(env.tmp / "ringfence.err");
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
  EXPECT_TRUE(pids_with_argument("1000.124").empty());
  EXPECT_TRUE(pids_with_argument("1000.125").empty());
  EXPECT_TRUE(env.parent.children().empty());
}

TEST(RunTeardown, TwoHundredRunsLeakNoCgroupBpfObjectZombieOrDescriptor) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  BpfObjectCounts before = count_bpf_objects();
  auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 200; ++i) {
    CommandResult result = env.run({"--", "/bin/true"});
    ASSERT_EQ(result.status, 0) << "run " << i << ": " << result.err;
  }
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::printf("200 runs of /bin/true: %lld ms\n", static_cast<long long>(elapsed.count()));

  EXPECT_TRUE(env.parent.children().empty()) << env.parent.children().size() << " left over";
  BpfObjectCounts after = count_bpf_objects();
  EXPECT_LE(after.programs, before.programs);
  EXPECT_LE(after.maps, before.maps);
  EXPECT_LE(after.links, before.links);
  EXPECT_TRUE(own_zombie_children().empty());

  CommandResult fds = env.run({"--", helpers_dir() + "/fd-report"});
  ASSERT_EQ(fds.status, 0) << fds.err;
  EXPECT_NE(fds.out.find("\nfds=0,1,2\n"), std::string::npos) << fds.out;
}

TEST(RunGc, NothingToCollectIsSuccess) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  CommandResult result = env.gc();
  EXPECT_EQ(result.status, 0) << result.err;
}

TEST(RunGc, CollectsRunWhosePidNowBelongsToAnotherProcess) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  // A run whose supervisor is gone and whose pid was reused: here by this test process,
  // which started at another time than the recorded one. The start time tells them apart.
  const std::string invocation = "0123456789abcdef0123456789abcdef";
  std::string cgroup = env.parent.absolute() + "/reused.service-" + invocation;
  ASSERT_EQ(::mkdir(env.parent.absolute().c_str(), 0755), 0) << std::strerror(errno);
  ASSERT_EQ(::mkdir(cgroup.c_str(), 0755), 0) << std::strerror(errno);
  std::string supervisor = std::to_string(getpid()) + " " +
                           std::to_string(std::stoull(process_starttime(getpid())) + 1);
  ASSERT_EQ(::setxattr(cgroup.c_str(), "trusted.invocation_id", invocation.data(),
                       invocation.size(), 0),
            0);
  ASSERT_EQ(::setxattr(cgroup.c_str(), "trusted.ringfence.supervisor", supervisor.data(),
                       supervisor.size(), 0),
            0);
  Background leftover({"/bin/sleep", "1000.778"}, {}, env.tmp / "leftover.out",
                      env.tmp / "leftover.err");
  write_file(cgroup + "/cgroup.procs", std::to_string(leftover.pid()), 0644);
  ASSERT_EQ(cgroup_of(leftover.pid()), env.parent.relative() + "/reused.service-" + invocation);

  CommandResult gc = env.gc();
  EXPECT_EQ(gc.status, 0) << gc.err;
  EXPECT_EQ(leftover.wait_exit(), 128 + SIGKILL) << "gc left the stale run's process";
  EXPECT_TRUE(env.parent.children().empty()) << "gc left the stale run's cgroup";
}

TEST(RunGc, LiveRunIsLeftAlone) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  Fifo events(env.tmp / "events");
  std::string script = env.write_script(
      "live.sh", "echo ready >" + events.path() + "\nexec sleep 1000.205\n");
  Background ringfence = env.start({"--", script});
  ASSERT_EQ(events.read_line(), "ready") << read_file(env.tmp / "ringfence.err");

  CommandResult gc = env.gc();
  EXPECT_EQ(gc.status, 0) << gc.err;
  EXPECT_FALSE(ringfence.wait_exit(0ms)) << "gc ended a run whose supervisor lives";
  EXPECT_EQ(pids_with_argument("1000.205").size(), 1u);
  EXPECT_EQ(env.parent.children().size(), 1u);
  ringfence.signal(SIGTERM);
  EXPECT_EQ(ringfence.wait_exit(), 128 + SIGTERM);
}

} // namespace
} // namespace rf::test
