// The one seccomp filter (src/seccomp/filter.cpp), without loading it: policies are folded
// from unit text as `run` does, and the verdicts come from the compiled classic BPF run by
// a small interpreter over struct seccomp_data, so what is checked is the program the
// kernel would run, not libseccomp's description of it. The pseudo code is checked where
// its text is the contract (`inspect --seccomp`).
#include "cbpf.hpp"
#include "policy_of.hpp"
#include "seccomp/filter.hpp"

#include "policy/syscall_groups.hpp"
#include "unit/directives.hpp"
#include "unit/ini_reader.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <cstddef>
#include <sched.h>
#include <string>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <vector>

using namespace rf;

namespace {

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr std::uint32_t kLog = SECCOMP_RET_LOG;
constexpr std::uint32_t errno_action(int e) {
  return SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(e) & SECCOMP_RET_DATA);
}
constexpr std::uint32_t kX32Bit = 0x40000000; // __X32_SYSCALL_BIT

using rf::test::policy_of;

std::string pfc(const Policy &policy) {
  Result<std::string> code = seccomp::pseudo_code(policy);
  EXPECT_TRUE(code) << (code ? "" : code.error().message());
  return code ? *code : std::string();
}

std::vector<sock_filter> program_of(const Policy &policy) {
  Result<seccomp::CompiledFilter> filter = seccomp::compile(policy);
  EXPECT_TRUE(filter) << (filter ? "" : filter.error().message());
  return filter ? filter->program : std::vector<sock_filter>{};
}

// The action, or 0xdeadbeef (and a test failure) where the interpreter cannot run it.
std::uint32_t run_bpf(const std::vector<sock_filter> &prog, const seccomp_data &data) {
  std::optional<test::Verdict> verdict = test::run_cbpf(prog, data);
  return verdict ? verdict->action : 0xdeadbeef;
}

seccomp_data call(std::uint32_t arch, int nr, std::array<std::uint64_t, 6> args = {}) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.instruction_pointer = 0x401000;
  for (std::size_t i = 0; i < args.size(); ++i)
    d.args[i] = args[i];
  return d;
}

// The action of the policy's filter for a native call.
std::uint32_t verdict(const Policy &policy, long nr, std::array<std::uint64_t, 6> args = {}) {
  return run_bpf(program_of(policy), call(AUDIT_ARCH_X86_64, static_cast<int>(nr), args));
}

// Text of the pseudo code block for one syscall: from its "filter for syscall" line to the
// next one (or the default action).
std::string pfc_block(const std::string &code, const std::string &name) {
  std::size_t start = code.find("filter for syscall \"" + name + "\"");
  if (start == std::string::npos)
    return {};
  std::size_t end = code.find("filter for syscall", start + 1);
  if (end == std::string::npos)
    end = code.find("# default action", start);
  return code.substr(start, end - start);
}

std::uint64_t u(long v) { return static_cast<std::uint64_t>(v); }

// --- structure --------------------------------------------------------------------------

TEST(SeccompFilter, PseudoCodeIsOneFilterForTheNativeAbiOnly) {
  std::string code = pfc(policy_of("SystemCallFilter=@system-service\nRestrictRealtime=yes\n"));
  EXPECT_NE(code.find("pseudo filter code start"), std::string::npos) << code;
  std::size_t first = code.find("# filter for arch");
  ASSERT_NE(first, std::string::npos) << code;
  EXPECT_EQ(code.find("# filter for arch", first + 1), std::string::npos) << code;
  EXPECT_NE(code.find("# filter for arch x86_64"), std::string::npos) << code;
}

TEST(SeccompFilter, CompiledProgramIsNonEmptyAndWithinTheKernelsLimit) {
  auto prog = program_of(policy_of("SystemCallFilter=@system-service\n"
                                   "SystemCallFilter=~@privileged @resources\n"
                                   "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
                                   "RestrictNamespaces=yes\nLockPersonality=yes\n"
                                   "MemoryDenyWriteExecute=yes\nRestrictRealtime=yes\n"
                                   "RestrictSUIDSGID=yes\n"));
  EXPECT_GT(prog.size(), 0u);
  EXPECT_LE(prog.size(), std::size_t{BPF_MAXINSNS});
}

TEST(SeccompFilter, PseudoCodeSaysBadArchitectureKillsTheProcess) {
  std::string code = pfc(policy_of("SystemCallFilter=~mount\n"));
  EXPECT_NE(code.find("# invalid architecture action\naction KILL_PROCESS;"), std::string::npos)
      << code;
}

// --- other ABIs, through the BPF itself --------------------------------------------------

TEST(SeccompFilterBpf, I386CallIsKilled) {
  auto prog = program_of(policy_of("SystemCallFilter=@system-service\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 20 /* i386 getpid */)), kKill);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 39 /* x86-64 getpid's number */)), kKill);
}

TEST(SeccompFilterBpf, I386CallIsKilledUnderADenyListToo) {
  // A deny list's default is ALLOW: the arch check must come before it.
  auto prog = program_of(policy_of("SystemCallFilter=~mount\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 20)), kKill);
}

TEST(SeccompFilterBpf, X32NumberIsKilled) {
  auto prog = program_of(policy_of("SystemCallFilter=@system-service\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, static_cast<int>(kX32Bit | SYS_getpid))),
            kKill);
}

TEST(SeccompFilterBpf, X32NumberIsKilledUnderADenyListToo) {
  auto prog = program_of(policy_of("SystemCallFilter=~mount\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, static_cast<int>(kX32Bit | SYS_getpid))),
            kKill);
}

TEST(SeccompFilterBpf, X32NumberIsKilledWhenOnlyArgumentRulesAreSet) {
  auto prog = program_of(policy_of("LockPersonality=yes\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, static_cast<int>(kX32Bit | SYS_personality),
                               {0x8 /* PER_LINUX32 */})),
            kKill);
}

TEST(SeccompFilterBpf, NativeListedCallIsAllowed) {
  auto prog = program_of(policy_of("SystemCallFilter=getpid write\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, SYS_getpid)), kAllow);
}

TEST(SeccompFilterBpf, UnknownNumberGetsEnosysUnderAnAllowList) {
  auto prog = program_of(policy_of("SystemCallFilter=getpid\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, 1000)), errno_action(ENOSYS));
}

// --- SystemCallArchitectures= opt-in: the same policy for i386 and x32 -------------------
// This kernel runs neither ABI, so the exported program itself is checked.

constexpr const char *kHardened = "SystemCallFilter=@system-service\n"
                                  "SystemCallFilter=~@privileged @resources\n"
                                  "SystemCallErrorNumber=EPERM\n"
                                  "RestrictNamespaces=yes\nLockPersonality=yes\n"
                                  "RestrictRealtime=yes\nRestrictSUIDSGID=yes\n";

// The number of a call on an ABI (libseccomp's table), -1 if that ABI has no such call.
int abi_number(std::uint32_t arch, std::string_view name) {
  int nr = seccomp_syscall_resolve_name_arch(arch, std::string(name).c_str());
  return nr < 0 ? -1 : nr;
}

// Every call systemd knows gets, on the opted-in ABI, the action the native call gets.
void expect_same_actions_as_native(const std::string &unit, std::uint32_t scmp_arch,
                                   std::uint32_t audit_arch) {
  auto prog = program_of(policy_of(unit));
  int compared = 0;
  for (std::string_view name : syscalls::expand_group("@known")) {
    int native = abi_number(SCMP_ARCH_X86_64, name), other = abi_number(scmp_arch, name);
    if (native < 0 || other < 0)
      continue;
    ++compared;
    EXPECT_EQ(run_bpf(prog, call(audit_arch, other)), run_bpf(prog, call(AUDIT_ARCH_X86_64, native)))
        << name << " (" << other << ")";
  }
  EXPECT_GT(compared, 250);
}

TEST(SeccompArchitectures, X86OptInGivesI386CallsTheNativeActions) {
  expect_same_actions_as_native(std::string(kHardened) + "SystemCallArchitectures=native x86\n",
                                SCMP_ARCH_X86, AUDIT_ARCH_I386);
}

TEST(SeccompArchitectures, X32OptInGivesX32CallsTheNativeActions) {
  expect_same_actions_as_native(std::string(kHardened) + "SystemCallArchitectures=native x32\n",
                                SCMP_ARCH_X32, AUDIT_ARCH_X86_64);
}

// i386 has calls of its own (setuid32, chown32, ...): a deny list must deny them too.
TEST(SeccompArchitectures, X86OptInDeniesI386OnlyCallsOfADeniedGroup) {
  auto prog = program_of(policy_of("SystemCallFilter=~@setuid\nSystemCallErrorNumber=EPERM\n"
                                   "SystemCallArchitectures=x86\n"));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 213 /* setuid32 */)), errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 23 /* setuid */)), errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 20 /* getpid */)), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, SYS_setuid)), errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, SYS_getpid)), kAllow); // native stays in
}

TEST(SeccompArchitectures, X86OptInKeepsArgumentRules) {
  auto prog = program_of(policy_of(std::string(kHardened) + "SystemCallArchitectures=x86\n"));
  constexpr int unshare = 310, personality = 136, sched_setscheduler = 156, chmod = 15;
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, unshare, {CLONE_NEWNET})), errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, unshare, {CLONE_FILES})), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, personality, {PER_LINUX32})),
            errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, personality, {PER_LINUX})), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, sched_setscheduler, {0, SCHED_FIFO})),
            errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, chmod, {0, 04755})), errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, chmod, {0, 0755})), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 1000)), errno_action(ENOSYS));
}

TEST(SeccompArchitectures, X32OptInKeepsArgumentRulesAndX32Numbers) {
  auto prog = program_of(policy_of(std::string(kHardened) + "SystemCallArchitectures=x32\n"));
  auto x32 = [](int nr) { return static_cast<int>(kX32Bit | static_cast<std::uint32_t>(nr)); };
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, x32(SYS_getpid))), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, x32(SYS_mount))), errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, x32(514) /* x32 ioctl */)), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, x32(SYS_personality), {PER_LINUX32})),
            errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, x32(SYS_personality), {PER_LINUX})), kAllow);
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, x32(SYS_unshare), {CLONE_NEWUSER})),
            errno_action(EPERM));
  EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_I386, 20)), kKill); // only x32 opted in
}

TEST(SeccompArchitectures, OptInStaysOneProgramWithASectionPerAbi) {
  std::string code =
      pfc(policy_of("SystemCallFilter=~mount\nSystemCallArchitectures=native x86 x32\n"));
  for (const char *arch : {"x86_64", "x86", "x32"})
    EXPECT_NE(code.find(std::string("# filter for arch ") + arch + " "), std::string::npos)
        << arch << "\n"
        << code;
  EXPECT_NE(code.find("# invalid architecture action\naction KILL_PROCESS;"), std::string::npos);
}

// i386 passes these calls' arguments in memory: the rules would not hold there.
TEST(SeccompArchitectures, X86WithRestrictAddressFamiliesIsRefused) {
  Result<seccomp::CompiledFilter> filter = seccomp::compile(
      policy_of("RestrictAddressFamilies=AF_UNIX\nSystemCallArchitectures=native x86\n"));
  ASSERT_FALSE(filter);
  EXPECT_NE(filter.error().message().find("socketcall"), std::string::npos)
      << filter.error().message();
}

TEST(SeccompArchitectures, X86WithMemoryDenyWriteExecuteIsRefused) {
  Result<seccomp::CompiledFilter> filter = seccomp::compile(
      policy_of("MemoryDenyWriteExecute=yes\nSystemCallArchitectures=native x86\n"));
  ASSERT_FALSE(filter);
  EXPECT_NE(filter.error().message().find("mmap"), std::string::npos)
      << filter.error().message();
}

TEST(SeccompArchitectures, X32WithEveryDirectiveIsAccepted) {
  EXPECT_TRUE(seccomp::compile(policy_of(std::string(kHardened) +
                                         "RestrictAddressFamilies=AF_UNIX\n"
                                         "MemoryDenyWriteExecute=yes\n"
                                         "SystemCallArchitectures=native x32\n")));
}

// --- the kernel's action cache -------------------------------------------------------------
// When a filter is attached, the kernel emulates it once per native syscall number with only
// nr and arch known (seccomp_is_const_allow() in kernel/seccomp.c): a call whose path loads
// nothing else and ends in SECCOMP_RET_ALLOW is answered from a bitmap, without running the
// filter. This is that emulation, instruction for instruction.
bool kernel_caches_allow(const std::vector<sock_filter> &prog, std::uint32_t arch, int nr) {
  std::uint32_t a = 0;
  for (std::size_t pc = 0; pc < prog.size(); ++pc) {
    const sock_filter &in = prog[pc];
    switch (in.code) {
    case BPF_LD | BPF_W | BPF_ABS:
      if (in.k == offsetof(seccomp_data, nr))
        a = static_cast<std::uint32_t>(nr);
      else if (in.k == offsetof(seccomp_data, arch))
        a = arch;
      else
        return false; // an argument or the instruction pointer: not constant
      break;
    case BPF_RET | BPF_K: return in.k == SECCOMP_RET_ALLOW;
    case BPF_JMP | BPF_JA: pc += in.k; break;
    case BPF_JMP | BPF_JEQ | BPF_K: pc += a == in.k ? in.jt : in.jf; break;
    case BPF_JMP | BPF_JGE | BPF_K: pc += a >= in.k ? in.jt : in.jf; break;
    case BPF_JMP | BPF_JGT | BPF_K: pc += a > in.k ? in.jt : in.jf; break;
    case BPF_JMP | BPF_JSET | BPF_K: pc += (a & in.k) ? in.jt : in.jf; break;
    case BPF_ALU | BPF_AND | BPF_K: a &= in.k; break;
    default: return false;
    }
  }
  return false;
}


// Every call allowed without argument checks is in the cache; a cached call is allowed.
void expect_cache_shape(const std::vector<sock_filter> &prog) {
  for (long nr : {SYS_getppid, SYS_getpid, SYS_read, SYS_write, SYS_close, SYS_futex,
                  SYS_epoll_wait, SYS_clock_nanosleep, SYS_rt_sigreturn, SYS_execve})
    EXPECT_TRUE(kernel_caches_allow(prog, AUDIT_ARCH_X86_64, static_cast<int>(nr))) << nr;
  for (long nr : {SYS_socket, SYS_mmap, SYS_personality, SYS_clone, SYS_openat})
    EXPECT_FALSE(kernel_caches_allow(prog, AUDIT_ARCH_X86_64, static_cast<int>(nr))) << nr;
  int cached = 0;
  for (int nr = 0; nr < 512; ++nr) {
    if (!kernel_caches_allow(prog, AUDIT_ARCH_X86_64, nr))
      continue;
    ++cached;
    EXPECT_EQ(run_bpf(prog, call(AUDIT_ARCH_X86_64, nr, {~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull})),
              kAllow)
        << nr;
  }
  EXPECT_GT(cached, 200);
}

TEST(SeccompActionCache, AllowedCallsWithoutArgumentRulesAreCached) {
  expect_cache_shape(program_of(policy_of(test::kFullPolicy)));
}

TEST(SeccompActionCache, OptedInAbisLeaveTheNativeCacheAsItIs) {
  expect_cache_shape(program_of(policy_of(std::string(test::kFullPolicy) + "SystemCallArchitectures=x32\n")));
}

TEST(SeccompFilter, NativeAndX8664AreTheSameAbi) {
  Policy p = policy_of("SystemCallFilter=~mount\nSystemCallArchitectures=native x86-64\n");
  EXPECT_TRUE(seccomp::compile(p));
}

// --- SystemCallFilter= allow lists ------------------------------------------------------

TEST(SeccompAllowList, DefaultActionIsEnosys) {
  std::string code = pfc(policy_of("SystemCallFilter=getpid\n"));
  EXPECT_NE(code.find("# default action\n  action ERRNO(38);"), std::string::npos) << code;
}

TEST(SeccompAllowList, UnlistedKnownCallIsKilledWithoutErrorNumber) {
  Policy p = policy_of("SystemCallFilter=getpid\n");
  EXPECT_EQ(verdict(p, SYS_mount), kKill);
  EXPECT_NE(pfc_block(pfc(p), "mount").find("action KILL_PROCESS;"), std::string::npos);
}

TEST(SeccompAllowList, UnlistedKnownCallGetsTheConfiguredErrno) {
  Policy p = policy_of("SystemCallFilter=getpid\nSystemCallErrorNumber=EPERM\n");
  EXPECT_EQ(verdict(p, SYS_mount), errno_action(EPERM));
  EXPECT_NE(pfc_block(pfc(p), "mount").find("action ERRNO(1);"), std::string::npos);
}

TEST(SeccompAllowList, UngroupedKnownCallIsDeniedNotEnosys) {
  // seccomp(2) is in @known only: denied like any other known call, not "unknown".
  Policy p = policy_of("SystemCallFilter=@system-service\nSystemCallErrorNumber=EACCES\n");
  EXPECT_EQ(verdict(p, SYS_seccomp), errno_action(EACCES));
}

TEST(SeccompAllowList, DefaultGroupIsAllowedImplicitly) {
  Policy p = policy_of("SystemCallFilter=getpid\n");
  EXPECT_EQ(verdict(p, SYS_execve), kAllow);
  EXPECT_EQ(verdict(p, SYS_exit_group), kAllow);
  EXPECT_EQ(verdict(p, SYS_rt_sigreturn), kAllow);
}

TEST(SeccompAllowList, LaterDenyEntryTakesItsOwnErrno) {
  Policy p = policy_of("SystemCallFilter=@system-service\nSystemCallFilter=~uname:EBADF\n"
                       "SystemCallErrorNumber=EPERM\n");
  EXPECT_EQ(verdict(p, SYS_uname), errno_action(EBADF));
  EXPECT_EQ(verdict(p, SYS_mount), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_read), kAllow);
}

TEST(SeccompAllowList, LaterDenyEntryWithoutErrnoTakesTheModesAction) {
  Policy p = policy_of("SystemCallFilter=@system-service\nSystemCallFilter=~uname\n");
  EXPECT_EQ(verdict(p, SYS_uname), kKill);
}

// --- SystemCallFilter= deny lists -------------------------------------------------------

TEST(SeccompDenyList, DefaultActionIsAllow) {
  Policy p = policy_of("SystemCallFilter=~mount\n");
  EXPECT_NE(pfc(p).find("# default action\n  action ALLOW;"), std::string::npos) << pfc(p);
  EXPECT_EQ(verdict(p, SYS_getpid), kAllow);
  EXPECT_EQ(verdict(p, 1000), kAllow);
}

TEST(SeccompDenyList, ListedCallIsKilledWithoutErrorNumber) {
  EXPECT_EQ(verdict(policy_of("SystemCallFilter=~mount\n"), SYS_mount), kKill);
}

TEST(SeccompDenyList, ListedCallGetsTheConfiguredErrno) {
  Policy p = policy_of("SystemCallFilter=~setpriority\nSystemCallErrorNumber=EPERM\n");
  EXPECT_EQ(verdict(p, SYS_setpriority), errno_action(EPERM));
  EXPECT_NE(pfc_block(pfc(p), "setpriority").find("action ERRNO(1);"), std::string::npos);
}

TEST(SeccompDenyList, EntryErrnoOverridesTheErrorNumber) {
  Policy p = policy_of("SystemCallFilter=~uname:EBADF mount\nSystemCallErrorNumber=EPERM\n");
  EXPECT_EQ(verdict(p, SYS_uname), errno_action(EBADF));
  EXPECT_EQ(verdict(p, SYS_mount), errno_action(EPERM));
  EXPECT_NE(pfc_block(pfc(p), "uname").find("action ERRNO(9);"), std::string::npos);
}

TEST(SeccompDenyList, EntryKillOverridesTheErrorNumber) {
  Policy p = policy_of("SystemCallFilter=~mount:kill\nSystemCallErrorNumber=EPERM\n");
  EXPECT_EQ(verdict(p, SYS_mount), kKill);
}

TEST(SeccompDenyList, GroupDeniesEveryMember) {
  Policy p = policy_of("SystemCallFilter=~@resources\nSystemCallErrorNumber=EPERM\n");
  for (std::string_view name : syscalls::expand_group("@resources")) {
    int nr = syscalls::native_number(name);
    if (nr >= 0) {
      EXPECT_EQ(verdict(p, nr), errno_action(EPERM)) << name;
    }
  }
}

// --- SystemCallLog= ---------------------------------------------------------------------

TEST(SeccompLog, ListedCallsAreLogged) {
  Policy p = policy_of("SystemCallLog=getpid\n");
  EXPECT_EQ(verdict(p, SYS_getpid), kLog);
  EXPECT_EQ(verdict(p, SYS_getppid), kAllow);
  EXPECT_NE(pfc_block(pfc(p), "getpid").find("action LOG;"), std::string::npos) << pfc(p);
}

TEST(SeccompLog, InvertedListLogsAllButTheListed) {
  Policy p = policy_of("SystemCallLog=~getpid\n");
  EXPECT_EQ(verdict(p, SYS_getpid), kAllow);
  EXPECT_EQ(verdict(p, SYS_getppid), kLog);
  EXPECT_NE(pfc(p).find("# default action\n  action LOG;"), std::string::npos) << pfc(p);
}

TEST(SeccompLog, DeniedCallStaysDenied) {
  Policy p = policy_of("SystemCallFilter=~mount\nSystemCallErrorNumber=EPERM\n"
                       "SystemCallLog=mount getpid\n");
  EXPECT_EQ(verdict(p, SYS_mount), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_getpid), kLog);
}

TEST(SeccompLog, LoggedCallKeepsItsArgumentRules) {
  Policy p = policy_of("LockPersonality=yes\nSystemCallLog=personality\n");
  EXPECT_EQ(verdict(p, SYS_personality, {PER_LINUX}), kLog);
  EXPECT_EQ(verdict(p, SYS_personality, {PER_LINUX32}), errno_action(EPERM));
}

// --- io_uring -----------------------------------------------------------------------------

TEST(SeccompIoUring, EnosysWithRestrictAddressFamilies) {
  Policy p = policy_of("RestrictAddressFamilies=AF_UNIX\n");
  for (long nr : {SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register})
    EXPECT_EQ(verdict(p, nr), errno_action(ENOSYS)) << nr;
}

TEST(SeccompIoUring, EnosysUnderAnAllowListThatHasThemThroughAGroup) {
  // @system-service includes @aio, which includes io_uring_*.
  Policy p = policy_of("SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n");
  for (long nr : {SYS_io_uring_setup, SYS_io_uring_enter, SYS_io_uring_register})
    EXPECT_EQ(verdict(p, nr), errno_action(ENOSYS)) << nr;
}

TEST(SeccompIoUring, AllowedWhenNamedExplicitlyInTheAllowList) {
  Policy p = policy_of("SystemCallFilter=@system-service io_uring_setup\n"
                       "RestrictAddressFamilies=AF_UNIX\n");
  EXPECT_EQ(verdict(p, SYS_io_uring_setup), kAllow);
  EXPECT_EQ(verdict(p, SYS_io_uring_enter), errno_action(ENOSYS)); // not named
}

TEST(SeccompIoUring, UntouchedByADenyListAlone) {
  Policy p = policy_of("SystemCallFilter=~mount\n");
  EXPECT_EQ(verdict(p, SYS_io_uring_setup), kAllow);
  EXPECT_EQ(pfc_block(pfc(p), "io_uring_setup"), "");
}

TEST(SeccompIoUring, DenyListEntryKeepsItsOwnAction) {
  Policy p = policy_of("SystemCallFilter=~io_uring_setup:EACCES\n"
                       "RestrictAddressFamilies=AF_UNIX\n");
  EXPECT_EQ(verdict(p, SYS_io_uring_setup), errno_action(EACCES));
}

// --- RestrictAddressFamilies= -----------------------------------------------------------

TEST(SeccompAddressFamilies, ListedFamilyIsAllowed) {
  Policy p = policy_of("RestrictAddressFamilies=AF_UNIX AF_INET\n");
  EXPECT_EQ(verdict(p, SYS_socket, {AF_UNIX, SOCK_STREAM}), kAllow);
  EXPECT_EQ(verdict(p, SYS_socket, {AF_INET, SOCK_DGRAM}), kAllow);
}

TEST(SeccompAddressFamilies, UnlistedFamilyGetsEafnosupport) {
  Policy p = policy_of("RestrictAddressFamilies=AF_UNIX AF_INET\n");
  EXPECT_EQ(verdict(p, SYS_socket, {AF_INET6}), errno_action(EAFNOSUPPORT));
  EXPECT_EQ(verdict(p, SYS_socket, {AF_NETLINK}), errno_action(EAFNOSUPPORT));
  EXPECT_EQ(verdict(p, SYS_socket, {AF_PACKET}), errno_action(EAFNOSUPPORT));
}

TEST(SeccompAddressFamilies, FamilyBeyondTheHeadersIsRefused) {
  Policy p = policy_of("RestrictAddressFamilies=AF_UNIX\n");
  EXPECT_EQ(verdict(p, SYS_socket, {AF_MAX}), errno_action(EAFNOSUPPORT));
  EXPECT_EQ(verdict(p, SYS_socket, {1000}), errno_action(EAFNOSUPPORT));
}

TEST(SeccompAddressFamilies, InvertedListRefusesOnlyTheListed) {
  Policy p = policy_of("RestrictAddressFamilies=~AF_PACKET\n");
  EXPECT_EQ(verdict(p, SYS_socket, {AF_PACKET}), errno_action(EAFNOSUPPORT));
  EXPECT_EQ(verdict(p, SYS_socket, {AF_INET}), kAllow);
  EXPECT_EQ(verdict(p, SYS_socket, {AF_NETLINK}), kAllow);
}

TEST(SeccompAddressFamilies, SocketpairIsNotFiltered) {
  Policy p = policy_of("RestrictAddressFamilies=AF_INET\n");
  EXPECT_EQ(verdict(p, SYS_socketpair, {AF_UNIX, SOCK_STREAM}), kAllow);
}

TEST(SeccompAddressFamilies, ArgumentRulesAlsoApplyUnderAnAllowList) {
  Policy p = policy_of("SystemCallFilter=@system-service\nSystemCallErrorNumber=EPERM\n"
                       "RestrictAddressFamilies=AF_UNIX\n");
  EXPECT_EQ(verdict(p, SYS_socket, {AF_UNIX}), kAllow);
  EXPECT_EQ(verdict(p, SYS_socket, {AF_INET}), errno_action(EAFNOSUPPORT));
}

TEST(SeccompAddressFamilies, SocketDeniedByTheAllowListStaysDenied) {
  Policy p = policy_of("SystemCallFilter=getpid\nSystemCallErrorNumber=EPERM\n"
                       "RestrictAddressFamilies=AF_UNIX\n");
  EXPECT_EQ(verdict(p, SYS_socket, {AF_UNIX}), errno_action(EPERM));
}

TEST(SeccompAddressFamilies, PseudoCodeHasTheSocketRule) {
  std::string block = pfc_block(pfc(policy_of("RestrictAddressFamilies=AF_UNIX\n")), "socket");
  EXPECT_NE(block.find("ERRNO(97)"), std::string::npos) << block; // EAFNOSUPPORT
}

// --- RestrictNamespaces= ----------------------------------------------------------------

TEST(SeccompNamespaces, UnshareOfANamespaceIsRefused) {
  Policy p = policy_of("RestrictNamespaces=yes\n");
  EXPECT_EQ(verdict(p, SYS_unshare, {CLONE_NEWNET}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_unshare, {CLONE_NEWUSER | CLONE_FILES}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_unshare, {CLONE_NEWNS}), errno_action(EPERM));
}

TEST(SeccompNamespaces, UnshareWithoutNamespaceFlagsIsAllowed) {
  Policy p = policy_of("RestrictNamespaces=yes\n");
  EXPECT_EQ(verdict(p, SYS_unshare, {CLONE_FILES}), kAllow);
  EXPECT_EQ(verdict(p, SYS_unshare, {0}), kAllow);
}

TEST(SeccompNamespaces, CloneWithANamespaceFlagIsRefused) {
  Policy p = policy_of("RestrictNamespaces=yes\n");
  EXPECT_EQ(verdict(p, SYS_clone, {CLONE_NEWPID | SIGCHLD}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_clone, {SIGCHLD}), kAllow);
  EXPECT_EQ(verdict(p, SYS_clone, {CLONE_VM | CLONE_THREAD | CLONE_SIGHAND}), kAllow);
}

TEST(SeccompNamespaces, Clone3GetsEnosys) {
  EXPECT_EQ(verdict(policy_of("RestrictNamespaces=yes\n"), SYS_clone3), errno_action(ENOSYS));
}

TEST(SeccompNamespaces, SetnsToARefusedTypeOrAnyTypeIsRefused) {
  Policy p = policy_of("RestrictNamespaces=yes\n");
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWNET}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_setns, {3, 0}), errno_action(EPERM));
}

// setns() on a pidfd takes several CLONE_NEW* flags at once (Linux 5.8): a value that is
// not one single flag must not slip past the per-flag rules.
TEST(SeccompNamespaces, SetnsWithSeveralRefusedFlagsIsRefused) {
  Policy p = policy_of("RestrictNamespaces=yes\n");
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWNET | CLONE_NEWUTS}), errno_action(EPERM));
}

TEST(SeccompNamespaces, SetnsWithAnAllowedAndARefusedFlagIsRefused) {
  Policy p = policy_of("RestrictNamespaces=net\n");
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWNET}), kAllow);
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWNET | CLONE_NEWUSER}), errno_action(EPERM));
}

TEST(SeccompNamespaces, SetnsWithSeveralAllowedFlagsIsAllowed) {
  Policy p = policy_of("RestrictNamespaces=net uts\n");
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWNET | CLONE_NEWUTS}), kAllow);
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWUTS}), kAllow);
}

TEST(SeccompNamespaces, ListedTypeStaysAllowed) {
  Policy p = policy_of("RestrictNamespaces=net\n");
  EXPECT_EQ(verdict(p, SYS_unshare, {CLONE_NEWNET}), kAllow);
  EXPECT_EQ(verdict(p, SYS_unshare, {CLONE_NEWUSER}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_setns, {3, CLONE_NEWUSER}), errno_action(EPERM));
}

TEST(SeccompNamespaces, NoRulesWhenEveryTypeIsAllowed) {
  std::string code = pfc(policy_of("RestrictNamespaces=no\nLockPersonality=yes\n"));
  EXPECT_EQ(pfc_block(code, "unshare"), "") << code;
  EXPECT_EQ(pfc_block(code, "clone3"), "") << code;
}

// --- LockPersonality= -------------------------------------------------------------------

TEST(SeccompPersonality, PerLinuxIsAllowed) {
  EXPECT_EQ(verdict(policy_of("LockPersonality=yes\n"), SYS_personality, {PER_LINUX}), kAllow);
}

TEST(SeccompPersonality, OtherPersonaIsRefused) {
  Policy p = policy_of("LockPersonality=yes\n");
  EXPECT_EQ(verdict(p, SYS_personality, {PER_LINUX32}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_personality, {ADDR_NO_RANDOMIZE}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_personality, {u(1) << 32}), errno_action(EPERM));
}

TEST(SeccompPersonality, AllowedUnderAnAllowListOnlyForPerLinux) {
  Policy p = policy_of("SystemCallFilter=@system-service\nLockPersonality=yes\n");
  EXPECT_EQ(verdict(p, SYS_personality, {PER_LINUX}), kAllow);
  EXPECT_EQ(verdict(p, SYS_personality, {PER_LINUX32}), errno_action(EPERM));
}

// --- MemoryDenyWriteExecute= ------------------------------------------------------------

TEST(SeccompWriteExecute, MmapWriteExecuteIsRefused) {
  Policy p = policy_of("MemoryDenyWriteExecute=yes\n");
  EXPECT_EQ(verdict(p, SYS_mmap, {0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC}),
            errno_action(EPERM));
}

TEST(SeccompWriteExecute, MmapWriteOrExecuteAloneIsAllowed) {
  Policy p = policy_of("SystemCallFilter=@system-service\nMemoryDenyWriteExecute=yes\n");
  EXPECT_EQ(verdict(p, SYS_mmap, {0, 4096, PROT_READ | PROT_WRITE}), kAllow);
  EXPECT_EQ(verdict(p, SYS_mmap, {0, 4096, PROT_READ | PROT_EXEC}), kAllow);
  EXPECT_EQ(verdict(p, SYS_mmap, {0, 4096, PROT_NONE}), kAllow);
}

TEST(SeccompWriteExecute, MprotectExecuteIsRefused) {
  Policy p = policy_of("MemoryDenyWriteExecute=yes\n");
  EXPECT_EQ(verdict(p, SYS_mprotect, {0, 4096, PROT_READ | PROT_EXEC}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_mprotect, {0, 4096, PROT_READ | PROT_WRITE}), kAllow);
}

TEST(SeccompWriteExecute, PkeyMprotectExecuteIsRefused) {
  Policy p = policy_of("MemoryDenyWriteExecute=yes\n");
  EXPECT_EQ(verdict(p, SYS_pkey_mprotect, {0, 4096, PROT_EXEC, 0}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_pkey_mprotect, {0, 4096, PROT_READ, 0}), kAllow);
}

TEST(SeccompWriteExecute, ShmatExecuteIsRefused) {
  Policy p = policy_of("MemoryDenyWriteExecute=yes\n");
  EXPECT_EQ(verdict(p, SYS_shmat, {1, 0, SHM_EXEC}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_shmat, {1, 0, SHM_RDONLY}), kAllow);
}

// --- RestrictRealtime= ------------------------------------------------------------------

TEST(SeccompRealtime, RealtimePoliciesAreRefused) {
  Policy p = policy_of("RestrictRealtime=yes\n");
  for (std::uint64_t policy : {u(SCHED_FIFO), u(SCHED_RR), u(6) /* SCHED_DEADLINE */,
                               u(SCHED_FIFO | SCHED_RESET_ON_FORK)})
    EXPECT_EQ(verdict(p, SYS_sched_setscheduler, {0, policy, 0}), errno_action(EPERM)) << policy;
}

TEST(SeccompRealtime, OrdinaryPoliciesAreAllowed) {
  Policy p = policy_of("SystemCallFilter=@system-service\nRestrictRealtime=yes\n");
  for (std::uint64_t policy : {u(SCHED_OTHER), u(SCHED_BATCH), u(SCHED_IDLE),
                               u(SCHED_BATCH | SCHED_RESET_ON_FORK)})
    EXPECT_EQ(verdict(p, SYS_sched_setscheduler, {0, policy, 0}), kAllow) << policy;
}

// --- RestrictSUIDSGID= ------------------------------------------------------------------

TEST(SeccompSuidSgid, ChmodFamilyWithSetIdBitsIsRefused) {
  Policy p = policy_of("RestrictSUIDSGID=yes\n");
  EXPECT_EQ(verdict(p, SYS_chmod, {0, 04755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_chmod, {0, 02755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_fchmod, {3, 06755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_fchmodat, {u(AT_FDCWD), 0, 04755, 0}), errno_action(EPERM));
}

TEST(SeccompSuidSgid, ChmodFamilyWithoutSetIdBitsIsAllowed) {
  Policy p = policy_of("SystemCallFilter=@system-service\nRestrictSUIDSGID=yes\n");
  EXPECT_EQ(verdict(p, SYS_chmod, {0, 0755}), kAllow);
  EXPECT_EQ(verdict(p, SYS_fchmod, {3, 01777}), kAllow); // sticky is not set-id
  EXPECT_EQ(verdict(p, SYS_fchmodat, {u(AT_FDCWD), 0, 0755, 0}), kAllow);
}

TEST(SeccompSuidSgid, MkdirAndMknodWithSetIdBitsAreRefused) {
  Policy p = policy_of("RestrictSUIDSGID=yes\n");
  EXPECT_EQ(verdict(p, SYS_mkdir, {0, 02755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_mkdirat, {u(AT_FDCWD), 0, 02755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_mknod, {0, S_IFREG | 04755, 0}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_mknodat, {u(AT_FDCWD), 0, S_IFREG | 04755, 0}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_mkdir, {0, 0755}), kAllow);
}

TEST(SeccompSuidSgid, CreatWithSetIdBitsIsRefused) {
  Policy p = policy_of("RestrictSUIDSGID=yes\n");
  EXPECT_EQ(verdict(p, SYS_creat, {0, 04755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_creat, {0, 0644}), kAllow);
}

TEST(SeccompSuidSgid, OpenCreatingWithSetIdBitsIsRefused) {
  Policy p = policy_of("RestrictSUIDSGID=yes\n");
  EXPECT_EQ(verdict(p, SYS_open, {0, O_CREAT | O_WRONLY, 02755}), errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_openat, {u(AT_FDCWD), 0, O_CREAT | O_RDWR, 04755}),
            errno_action(EPERM));
  EXPECT_EQ(verdict(p, SYS_openat, {u(AT_FDCWD), 0, O_TMPFILE | O_RDWR, 04755}),
            errno_action(EPERM));
}

TEST(SeccompSuidSgid, OpenNotCreatingIgnoresTheMode) {
  Policy p = policy_of("SystemCallFilter=@system-service\nRestrictSUIDSGID=yes\n");
  EXPECT_EQ(verdict(p, SYS_openat, {u(AT_FDCWD), 0, O_RDONLY, 04755}), kAllow);
  EXPECT_EQ(verdict(p, SYS_openat, {u(AT_FDCWD), 0, O_CREAT | O_RDWR, 0755}), kAllow);
  EXPECT_EQ(verdict(p, SYS_open, {0, O_CREAT | O_WRONLY, 0644}), kAllow);
}

TEST(SeccompSuidSgid, Openat2GetsEnosys) {
  EXPECT_EQ(verdict(policy_of("RestrictSUIDSGID=yes\n"), SYS_openat2), errno_action(ENOSYS));
}

// fchmodat2 (Linux 6.6, number 452) takes the mode like fchmodat: without a rule it sets
// S_ISUID past RestrictSUIDSGID= whenever no allow list denies it.
TEST(SeccompSuidSgid, Fchmodat2WithSetIdBitsIsRefused) {
  Policy p = policy_of("RestrictSUIDSGID=yes\n");
  std::uint32_t action = verdict(p, 452, {u(AT_FDCWD), 0, 04755, 0});
  EXPECT_TRUE(action == errno_action(EPERM) || action == errno_action(ENOSYS))
      << "action 0x" << std::hex << action;
}

// --- errors -------------------------------------------------------------------------------

TEST(SeccompFilter, ForeignArchitectureIsAnError) {
  Policy p;
  p.syscall_architectures = {"arm64"};
  Result<seccomp::CompiledFilter> filter = seccomp::compile(p);
  ASSERT_FALSE(filter);
  EXPECT_NE(filter.error().message().find("arm64"), std::string::npos);
}

} // namespace
