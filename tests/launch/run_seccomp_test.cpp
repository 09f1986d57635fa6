// The seccomp filter as a service meets it: `ringfence run` with seccomp directives, a
// probe (tests/helpers/sc_probe.cpp) that makes one call and prints "ok" or "errno=NAME".
// Where the kernel itself would refuse the call too (a capability the sandbox drops), the
// probe is arranged so that the kernel's answer differs from the filter's, or the test
// first shows the call works without the directive.
#include "cgroup/cgroup.hpp"
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using rf::test::CommandResult;
using rf::test::run_command;
using rf::test::TempDir;

namespace {

constexpr int kSigsysStatus = 128 + 31; // ringfence exits 128+N for a service killed by N

std::string probe() { return rf::test::helpers_dir() + "/sc-probe"; }

// One ringfence run per test, in its own cgroup parent (removed afterwards), with an
// audit log in a temporary directory.
class SeccompRun : public ::testing::Test {
protected:
  void SetUp() override { RF_REQUIRE_ROOT(); }
  void TearDown() override {
    // cgroup2 is not always at /sys/fs/cgroup (hybrid layouts): ask mountinfo.
    rf::Result<std::string> mount = rf::cgroup::find_cgroup2_mount();
    for (const std::string &parent : parents_)
      if (mount)
        ::rmdir((*mount + parent).c_str());
  }

  // ringfence run -p each of `properties` -- command...
  CommandResult run(const std::vector<std::string> &properties,
                    const std::vector<std::string> &command) {
    static int counter = 0;
    std::string parent =
        "/rf-sctest-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    parents_.push_back(parent);
    std::vector<std::string> argv{rf::test::ringfence_bin(), "run", "--cgroup-parent", parent,
                                  "--audit-log", tmp_ / "audit.jsonl"};
    for (const std::string &p : properties) {
      argv.push_back("-p");
      argv.push_back(p);
    }
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return run_command(argv);
  }

  // The probe's answer under `properties`; the run must end normally.
  std::string probe_under(const std::vector<std::string> &properties,
                          const std::vector<std::string> &probe_args) {
    std::vector<std::string> command{probe()};
    command.insert(command.end(), probe_args.begin(), probe_args.end());
    CommandResult r = run(properties, command);
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }

  TempDir tmp_;
  std::vector<std::string> parents_;
};

const std::vector<std::string> kAllDirectives = {
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources",
    "SystemCallErrorNumber=EPERM",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
};

// --- SystemCallFilter= ---------------------------------------------------------------------

TEST_F(SeccompRun, DeniedCallReturnsTheConfiguredErrno) {
  EXPECT_EQ(probe_under({}, {"syscall", "141"}), "ok\n"); // setpriority(0, 0, 0)
  EXPECT_EQ(probe_under({"SystemCallFilter=~setpriority", "SystemCallErrorNumber=EPERM"},
                        {"syscall", "141"}),
            "errno=EPERM\n");
}

TEST_F(SeccompRun, NiceFailsWithEpermUnderADenyList) {
  CommandResult r = run({"SystemCallFilter=~setpriority", "SystemCallErrorNumber=EPERM"},
                        {"/usr/bin/nice", "-n", "5", "true"});
  // nice reports a failed setpriority() but still runs the command.
  EXPECT_NE(r.err.find("cannot set niceness: Operation not permitted"), std::string::npos)
      << r.err;
}

TEST_F(SeccompRun, DenyEntryErrnoOverridesTheErrorNumber) {
  EXPECT_EQ(probe_under({"SystemCallFilter=~setpriority:EACCES", "SystemCallErrorNumber=EPERM"},
                        {"syscall", "141"}),
            "errno=EACCES\n");
}

TEST_F(SeccompRun, DeniedCallWithoutErrorNumberKillsWithSigsys) {
  CommandResult r = run({"SystemCallFilter=~setpriority"}, {probe(), "syscall", "141"});
  EXPECT_EQ(r.status, kSigsysStatus) << r.out << r.err;
  EXPECT_EQ(r.out, ""); // killed inside the call, before printing
}

TEST_F(SeccompRun, AllowedCallWorksUnderAnAllowList) {
  EXPECT_EQ(probe_under({"SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM"},
                        {"getpid"}),
            "ok\n");
}

TEST_F(SeccompRun, AllowListDeniesAnUnlistedKnownCallWithTheErrno) {
  EXPECT_EQ(probe_under({"SystemCallFilter=@system-service", "SystemCallErrorNumber=EACCES"},
                        {"syscall", "165"}), // mount, in @mount only
            "errno=EACCES\n");
}

TEST_F(SeccompRun, AllowListAnswersEnosysForAnUnknownNumber) {
  EXPECT_EQ(probe_under({"SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM"},
                        {"syscall", "1000"}),
            "errno=ENOSYS\n");
}

TEST_F(SeccompRun, AllowListAnswersEnosysForACallNewerThanTheTable) {
  // cachestat (451, Linux 6.5) is unknown to systemd 252's table; the kernel answers
  // EFAULT for null arguments, the filter ENOSYS.
  EXPECT_EQ(probe_under({}, {"syscall", "451"}), "errno=EFAULT\n");
  EXPECT_EQ(probe_under({"SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM"},
                        {"syscall", "451"}),
            "errno=ENOSYS\n");
}

TEST_F(SeccompRun, X32NumberKillsTheService) {
  CommandResult r = run({"SystemCallFilter=@system-service", "SystemCallErrorNumber=EPERM"},
                        {probe(), "syscall", "0x40000027"}); // x32 getpid
  EXPECT_EQ(r.status, kSigsysStatus) << r.out << r.err;
}

TEST_F(SeccompRun, X32NumberKillsTheServiceUnderADenyList) {
  CommandResult r = run({"SystemCallFilter=~mount"}, {probe(), "syscall", "0x40000027"});
  EXPECT_EQ(r.status, kSigsysStatus) << r.out << r.err;
}

TEST_F(SeccompRun, ServiceRunsUnderOneFilterWithNoNewPrivs) {
  CommandResult r = run(kAllDirectives, {"/bin/grep", "-E", "^(Seccomp|Seccomp_filters|NoNewPrivs):",
                                         "/proc/self/status"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("NoNewPrivs:\t1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp:\t2\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Seccomp_filters:\t1\n"), std::string::npos) << r.out;
}

// --- SystemCallLog= ------------------------------------------------------------------------

TEST_F(SeccompRun, LoggedCallIsAllowed) {
  EXPECT_EQ(probe_under({"SystemCallLog=getpid"}, {"getpid"}), "ok\n");
}

TEST_F(SeccompRun, LoggedCallIsAllowedUnderAnAllowList) {
  EXPECT_EQ(probe_under({"SystemCallFilter=@system-service", "SystemCallLog=~read"},
                        {"getpid"}),
            "ok\n");
}

// --- io_uring ------------------------------------------------------------------------------

TEST_F(SeccompRun, IoUringSetupGetsEnosysWithRestrictAddressFamilies) {
  EXPECT_EQ(probe_under({}, {"io_uring_setup"}), "ok\n");
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=AF_UNIX"}, {"io_uring_setup"}),
            "errno=ENOSYS\n");
}

TEST_F(SeccompRun, IoUringSetupWorksWhenNamedInTheAllowList) {
  EXPECT_EQ(probe_under({"SystemCallFilter=@system-service io_uring_setup",
                         "RestrictAddressFamilies=AF_UNIX"},
                        {"io_uring_setup"}),
            "ok\n");
}

// --- RestrictAddressFamilies= --------------------------------------------------------------

TEST_F(SeccompRun, ListedAddressFamilyWorks) {
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=AF_UNIX AF_INET"}, {"socket", "1"}), "ok\n");
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=AF_UNIX AF_INET"}, {"socket", "2"}), "ok\n");
}

TEST_F(SeccompRun, UnlistedAddressFamilyGetsEafnosupport) {
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=AF_UNIX AF_INET"}, {"socket", "10"}),
            "errno=EAFNOSUPPORT\n"); // AF_INET6
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=AF_UNIX AF_INET"}, {"socket", "16"}),
            "errno=EAFNOSUPPORT\n"); // AF_NETLINK
}

TEST_F(SeccompRun, InvertedAddressFamilyListRefusesTheListed) {
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=~AF_INET6"}, {"socket", "10"}),
            "errno=EAFNOSUPPORT\n");
  EXPECT_EQ(probe_under({"RestrictAddressFamilies=~AF_INET6"}, {"socket", "2"}), "ok\n");
}

// --- RestrictNamespaces= -------------------------------------------------------------------
// The sandbox drops CAP_SYS_ADMIN, which alone makes unshare(CLONE_NEWNET) fail with EPERM;
// these runs keep it so that the EPERM is the filter's.

const std::vector<std::string> kKeepSysAdmin = {"CapabilityBoundingSet=CAP_SYS_ADMIN"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string> &b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST_F(SeccompRun, UnshareOfANetworkNamespaceIsRefused) {
  EXPECT_EQ(probe_under(with(kKeepSysAdmin, {"LockPersonality=yes"}), {"unshare", "0x40000000"}),
            "ok\n");
  EXPECT_EQ(probe_under(with(kKeepSysAdmin, {"RestrictNamespaces=yes"}),
                        {"unshare", "0x40000000"}),
            "errno=EPERM\n");
}

TEST_F(SeccompRun, UnshareOfAnAllowedNamespaceWorks) {
  EXPECT_EQ(probe_under(with(kKeepSysAdmin, {"RestrictNamespaces=net"}),
                        {"unshare", "0x40000000"}),
            "ok\n");
}

TEST_F(SeccompRun, UnshareWithoutNamespaceFlagsWorks) {
  EXPECT_EQ(probe_under({"RestrictNamespaces=yes"}, {"unshare", "0x400"}), "ok\n"); // CLONE_FILES
}

// The probe's setns() targets a reaped child's pidfd: the kernel says ESRCH, the filter EPERM.
TEST_F(SeccompRun, SetnsToANetworkNamespaceIsRefused) {
  EXPECT_EQ(probe_under({}, {"setns-reaped", "0x40000000"}), "errno=ESRCH\n");
  EXPECT_EQ(probe_under({"RestrictNamespaces=yes"}, {"setns-reaped", "0x40000000"}),
            "errno=EPERM\n");
}

TEST_F(SeccompRun, SetnsWithSeveralNamespaceFlagsIsRefused) {
  // CLONE_NEWNET | CLONE_NEWUTS: a pidfd takes several at once.
  EXPECT_EQ(probe_under({"RestrictNamespaces=yes"}, {"setns-reaped", "0x44000000"}),
            "errno=EPERM\n");
}

TEST_F(SeccompRun, Clone3GetsEnosys) {
  EXPECT_EQ(probe_under({}, {"clone3"}), "errno=EINVAL\n");
  EXPECT_EQ(probe_under({"RestrictNamespaces=yes"}, {"clone3"}), "errno=ENOSYS\n");
}

TEST_F(SeccompRun, ForkStillWorksWithRestrictNamespaces) {
  // glibc's fork() is clone(); /bin/sh forks for the pipeline.
  CommandResult r = run({"RestrictNamespaces=yes"}, {"/bin/sh", "-c", "echo hi | cat"});
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hi\n");
}

// --- LockPersonality= ----------------------------------------------------------------------

TEST_F(SeccompRun, PersonalityChangeIsRefused) {
  EXPECT_EQ(probe_under({}, {"personality", "8"}), "ok\n"); // PER_LINUX32
  EXPECT_EQ(probe_under({"LockPersonality=yes"}, {"personality", "8"}), "errno=EPERM\n");
}

TEST_F(SeccompRun, PersonalityPerLinuxWorks) {
  EXPECT_EQ(probe_under({"LockPersonality=yes"}, {"personality", "0"}), "ok\n");
}

// --- MemoryDenyWriteExecute= ---------------------------------------------------------------

TEST_F(SeccompRun, WriteExecuteMappingIsRefused) {
  EXPECT_EQ(probe_under({}, {"mmap", "7"}), "ok\n"); // PROT_READ | PROT_WRITE | PROT_EXEC
  EXPECT_EQ(probe_under({"MemoryDenyWriteExecute=yes"}, {"mmap", "7"}), "errno=EPERM\n");
}

TEST_F(SeccompRun, ReadWriteMappingWorks) {
  EXPECT_EQ(probe_under({"MemoryDenyWriteExecute=yes"}, {"mmap", "3"}), "ok\n");
}

TEST_F(SeccompRun, MprotectToExecuteIsRefused) {
  EXPECT_EQ(probe_under({"MemoryDenyWriteExecute=yes"}, {"mprotect", "5"}), "errno=EPERM\n");
  EXPECT_EQ(probe_under({"MemoryDenyWriteExecute=yes"}, {"mprotect", "3"}), "ok\n");
}

// --- RestrictRealtime= ---------------------------------------------------------------------

TEST_F(SeccompRun, FifoSchedulingIsRefused) {
  EXPECT_EQ(probe_under({}, {"sched", "1"}), "ok\n"); // root has CAP_SYS_NICE
  EXPECT_EQ(probe_under({"RestrictRealtime=yes"}, {"sched", "1"}), "errno=EPERM\n");
}

TEST_F(SeccompRun, BatchSchedulingWorks) {
  EXPECT_EQ(probe_under({"RestrictRealtime=yes"}, {"sched", "3"}), "ok\n");
}

TEST_F(SeccompRun, RealtimePriorityLimitIsZero) {
  // Raised here when the test may (CAP_SYS_RESOURCE), so that 0 is ringfence's doing;
  // containers without it start at 0 already.
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_RTPRIO, &saved), 0);
  rlimit raised{10, 10};
  bool could_raise = ::setrlimit(RLIMIT_RTPRIO, &raised) == 0;
  std::string out = probe_under({"RestrictRealtime=yes"}, {"rtprio"});
  if (could_raise)
    ::setrlimit(RLIMIT_RTPRIO, &saved);
  EXPECT_EQ(out, "rtprio=0/0\n");
}

// --- RestrictSUIDSGID= ---------------------------------------------------------------------

mode_t mode_of(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_mode & 07777 : 0;
}

TEST_F(SeccompRun, ChmodSetuidIsRefused) {
  std::string file = tmp_ / "f";
  rf::test::write_file(file, "", 0644);
  EXPECT_EQ(probe_under({"RestrictSUIDSGID=yes"}, {"chmod", "04755", file}), "errno=EPERM\n");
  EXPECT_EQ(mode_of(file), 0644u);
}

TEST_F(SeccompRun, ChmodWithoutSetIdBitsWorks) {
  std::string file = tmp_ / "f";
  rf::test::write_file(file, "", 0644);
  EXPECT_EQ(probe_under({"RestrictSUIDSGID=yes"}, {"chmod", "0755", file}), "ok\n");
  EXPECT_EQ(mode_of(file), 0755u);
}

TEST_F(SeccompRun, CreatingASetgidFileIsRefused) {
  std::string file = tmp_ / "g";
  EXPECT_EQ(probe_under({"RestrictSUIDSGID=yes"}, {"create", "02755", file}), "errno=EPERM\n");
  EXPECT_NE(::access(file.c_str(), F_OK), 0);
}

TEST_F(SeccompRun, CreatingAFileWithoutSetIdBitsWorks) {
  std::string file = tmp_ / "g";
  EXPECT_EQ(probe_under({"RestrictSUIDSGID=yes"}, {"create", "0755", file}), "ok\n");
  EXPECT_EQ(::access(file.c_str(), F_OK), 0);
}

// fchmodat2 (Linux 6.6) sets the mode like fchmodat.
TEST_F(SeccompRun, Fchmodat2SetuidIsRefused) {
  std::string file = tmp_ / "f";
  rf::test::write_file(file, "", 0644);
  std::string out = probe_under({"RestrictSUIDSGID=yes"}, {"fchmodat2", "04755", file});
  EXPECT_TRUE(out == "errno=EPERM\n" || out == "errno=ENOSYS\n") << out;
  EXPECT_EQ(mode_of(file) & 06000, 0u);
}

// --- inspect --seccomp (no root needed) ----------------------------------------------------

class SeccompInspect : public ::testing::Test {
protected:
  CommandResult inspect(const std::string &body) {
    rf::test::write_file(tmp_ / "units/probe.service", "[Service]\nExecStart=/bin/true\n" + body);
    return run_command({rf::test::ringfence_bin(), "inspect", "probe.service", "--seccomp"},
                       {"RINGFENCE_UNIT_PATH=" + tmp_ / "units"});
  }
  TempDir tmp_;
};

TEST_F(SeccompInspect, PrintsPseudoCode) {
  CommandResult r = inspect("SystemCallFilter=@system-service\nRestrictRealtime=yes\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("pseudo filter code start"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("sched_setscheduler"), std::string::npos) << r.out;
}

TEST_F(SeccompInspect, SaysSoForAUnitWithoutSeccompDirectives) {
  CommandResult r = inspect("Environment=A=1\n");
  EXPECT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("sets no seccomp directive"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("pseudo filter code"), std::string::npos) << r.out;
}

} // namespace
