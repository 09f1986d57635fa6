// seccomp::compact() (src/seccomp/compact.cpp): the program compile() emits must decide every
// call as libseccomp's program for the same policy does. Both are run by the interpreter below
// over every syscall number of each ABI (and the numbers around them), with arguments drawn
// from the constants the programs compare with; and compact() must leave alone what it does
// not know.
#include "cbpf.hpp"
#include "policy_of.hpp"
#include "seccomp/compact.hpp"
#include "seccomp/filter.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <optional>
#include <random>
#include <seccomp.h>
#include <set>
#include <string>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace rf;

namespace {

constexpr std::uint32_t kAll = 0xffffffff;
constexpr std::uint32_t kX32Bit = 0x40000000; // __X32_SYSCALL_BIT

sock_filter stmt(int code, std::uint32_t k) { return {static_cast<std::uint16_t>(code), 0, 0, k}; }
sock_filter jmp(int code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
  return {static_cast<std::uint16_t>(code), jt, jf, k};
}

using test::Verdict;

std::optional<Verdict> run(const std::vector<sock_filter> &prog, const seccomp_data &data) {
  return test::run_cbpf(prog, data);
}

// Values an argument word is tried with: every constant either program compares with or
// masks with, next to it, its complement, and a few others.
std::vector<std::uint32_t> word_values(const std::vector<sock_filter> &a,
                                       const std::vector<sock_filter> &b) {
  std::set<std::uint32_t> values{0, 1, kAll, 0x80000000, 0x7fffffff};
  for (const auto *prog : {&a, &b})
    for (const sock_filter &in : *prog)
      if (BPF_CLASS(in.code) == BPF_JMP || BPF_CLASS(in.code) == BPF_ALU)
        values.insert({in.k, in.k + 1, in.k - 1, ~in.k, in.k | 0x10000, in.k & 0xff});
  return {values.begin(), values.end()};
}

// Syscall numbers: each of every ABI's table and past it, x32's, and the edges of the range.
std::vector<std::uint32_t> numbers() {
  std::vector<std::uint32_t> nrs;
  for (std::uint32_t nr = 0; nr < 600; ++nr)
    nrs.insert(nrs.end(), {nr, kX32Bit | nr});
  nrs.insert(nrs.end(), {1000, 4095, 65535, kX32Bit - 1, 0x7fffffff, 0x80000000, 0xbfffffff,
                         0xc0000000, 0xfffffffe, kAll});
  return nrs;
}

// Every call of every ABI gets the same action from both programs. Where the original
// program reads an argument, 200 argument sets drawn from the programs' constants are tried.
void expect_same_actions(const std::vector<sock_filter> &original,
                         const std::vector<sock_filter> &compacted, const std::string &what) {
  std::vector<std::uint32_t> values = word_values(original, compacted);
  std::uint64_t random = 0x2545f4914f6cdd1d;
  auto pick = [&]() {
    random ^= random << 13;
    random ^= random >> 7;
    random ^= random << 17;
    return std::uint64_t{values[random % values.size()]};
  };
  int mismatches = 0, with_arguments = 0;
  for (std::uint32_t arch : std::initializer_list<std::uint32_t>{
           AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, 0})
    for (std::uint32_t nr : numbers())
      for (int pattern = 0; pattern < 202 && mismatches < 5; ++pattern) {
        seccomp_data d{};
        d.nr = static_cast<int>(nr);
        d.arch = arch;
        d.instruction_pointer = 0x401000;
        for (auto &arg : d.args)
          arg = pattern == 0 ? 0 : pattern == 1 ? ~std::uint64_t{0} : pick() << 32 | pick();
        std::optional<Verdict> want = run(original, d), got = run(compacted, d);
        if (!want || !got)
          return;
        if (want->action != got->action) {
          ++mismatches;
          ADD_FAILURE() << what << ": arch 0x" << std::hex << arch << " nr 0x" << nr << " args 0x"
                        << d.args[0] << " 0x" << d.args[1] << " 0x" << d.args[2] << " 0x"
                        << d.args[3] << ": libseccomp's program 0x" << want->action
                        << ", compact 0x" << got->action;
        }
        if (pattern == 1 && !want->read_arguments)
          break; // no argument decides this call
        with_arguments += pattern == 2;
      }
  EXPECT_GT(with_arguments, 0) << what << ": no call with argument rules was tried";
}

void expect_same_actions(const std::string &unit) {
  for (bool notify : {false, true}) {
    Policy policy = test::policy_of(unit);
    seccomp::FilterOptions options{notify};
    Result<std::vector<sock_filter>> original = seccomp::libseccomp_program(policy, options);
    Result<seccomp::CompiledFilter> compiled = seccomp::compile(policy, options);
    ASSERT_TRUE(original && compiled) << unit;
    EXPECT_LE(compiled->program.size(), original->size()) << unit;
    expect_same_actions(*original, compiled->program,
                        unit + (notify ? " (notify)" : " (errno)"));
  }
}


// --- the same actions as libseccomp's program -----------------------------------------------

TEST(SeccompCompact, FullPolicy) { expect_same_actions(test::kFullPolicy); }

TEST(SeccompCompact, FullPolicyWithX32) {
  expect_same_actions(std::string(test::kFullPolicy) + "SystemCallArchitectures=x32\n");
}

TEST(SeccompCompact, EveryAbi) {
  expect_same_actions("SystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n"
                      "SystemCallErrorNumber=EPERM\nRestrictNamespaces=yes\n"
                      "LockPersonality=yes\nRestrictRealtime=yes\nRestrictSUIDSGID=yes\n"
                      "SystemCallArchitectures=native x86 x32\n");
}

TEST(SeccompCompact, AllowListThatKills) {
  expect_same_actions("SystemCallFilter=@system-service\nSystemCallFilter=~uname:EBADF\n"
                      "RestrictNamespaces=cgroup ipc net\nMemoryDenyWriteExecute=yes\n");
}

TEST(SeccompCompact, DenyLists) {
  expect_same_actions("SystemCallFilter=~@mount @swap @reboot mount:kill\n"
                      "SystemCallErrorNumber=EACCES\nRestrictAddressFamilies=~AF_PACKET AF_NETLINK\n");
  expect_same_actions("SystemCallFilter=~@obsolete\nRestrictNamespaces=~user\n"
                      "SystemCallArchitectures=x86\n");
}

TEST(SeccompCompact, Logging) {
  expect_same_actions("SystemCallFilter=@system-service\nSystemCallLog=~read write\n"
                      "SystemCallErrorNumber=EPERM\nLockPersonality=yes\n");
  expect_same_actions("SystemCallLog=getpid personality\nLockPersonality=yes\n"
                      "RestrictSUIDSGID=yes\n");
}

TEST(SeccompCompact, ArgumentRulesAlone) {
  expect_same_actions("LockPersonality=yes\n");
  expect_same_actions("RestrictAddressFamilies=AF_UNIX\nSystemCallArchitectures=x32\n");
}

// --- what it is for ------------------------------------------------------------------------

// The load cost follows the length: docs/benchmarks.md has the times.
TEST(SeccompCompact, FullPolicyIsAFifthOfLibseccompsProgram) {
  Policy policy = test::policy_of(test::kFullPolicy);
  for (bool notify : {false, true}) {
    Result<std::vector<sock_filter>> original =
        seccomp::libseccomp_program(policy, seccomp::FilterOptions{notify});
    Result<seccomp::CompiledFilter> compiled =
        seccomp::compile(policy, seccomp::FilterOptions{notify});
    ASSERT_TRUE(original && compiled);
    EXPECT_LE(compiled->program.size() * 4, original->size())
        << compiled->program.size() << " of " << original->size();
  }
}

// Jumps beyond a conditional jump's reach (255 instructions) go through a JA.
TEST(SeccompCompact, FarTargetsAreReachedThroughJa) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  ASSERT_NE(ctx, nullptr);
  // 120 calls with rules on two arguments each: the argument tests outgrow the reach of the
  // search over the numbers.
  for (int nr = 0; nr < 120; ++nr) {
    seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO(static_cast<std::uint32_t>(nr + 1)), nr, 2,
                           SCMP_A0(SCMP_CMP_EQ, static_cast<std::uint64_t>(nr) * 3 + 7),
                           SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf0, 0x30));
    seccomp_rule_add_exact(ctx, SCMP_ACT_KILL_PROCESS, nr, 1, SCMP_A2(SCMP_CMP_GT, 1000));
  }
  int fd = ::memfd_create("compact-test", 0);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(seccomp_export_bpf(ctx, fd), 0);
  seccomp_release(ctx);
  std::vector<sock_filter> original(static_cast<std::size_t>(::lseek(fd, 0, SEEK_END)) /
                                    sizeof(sock_filter));
  ASSERT_EQ(::pread(fd, original.data(), original.size() * sizeof(sock_filter), 0),
            static_cast<ssize_t>(original.size() * sizeof(sock_filter)));
  ::close(fd);

  std::optional<std::vector<sock_filter>> compacted = seccomp::compact(original);
  ASSERT_TRUE(compacted) << original.size() << " instructions";
  EXPECT_LT(compacted->size(), original.size());
  bool far = false;
  for (const sock_filter &in : *compacted)
    far |= in.code == (BPF_JMP | BPF_JA);
  EXPECT_TRUE(far) << compacted->size() << " instructions, no JA";
  expect_same_actions(original, *compacted, "120 calls with argument rules");
}

// --- what it leaves alone ------------------------------------------------------------------

// Random programs of the instructions compact() takes (loads of the number, the ABI and
// argument words, AND, JA, JEQ/JGT/JGE/JSET, returns), with small constants dense in bits so
// that masks, bit tests and chained comparisons of one word meet: where compact() rewrites
// one, both give the same action for every input tried. Seeded: the same programs each run.
TEST(SeccompCompact, RandomProgramsKeepTheirActions) {
  std::mt19937_64 rng(20261129);
  auto below = [&](std::uint64_t n) { return static_cast<std::uint32_t>(rng() % n); };
  auto constant = [&] {
    constexpr std::uint32_t kHigh[] = {0, 0x80000000u, 0xfffffff0u, 0x10};
    return below(16) | (below(4) == 0 ? kHigh[below(4)] : 0);
  };
  constexpr std::uint32_t kWords[] = {0, 4, 16, 20, 24, 28}; // nr, arch, args[0..1] lo/hi
  constexpr std::uint32_t kValues[] = {
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 0x1f, 0x10, 0x7fffffff, 0x80000000u,
      0x8000000fu, 0xfffffff0u, 0xfffffff5u, kAll};
  int compacted = 0;
  for (int program = 0; program < 3000; ++program) {
    int size = 8 + static_cast<int>(below(40));
    int returns = 2 + static_cast<int>(below(3));
    std::vector<sock_filter> prog(static_cast<std::size_t>(size));
    for (int i = 0; i < size; ++i) {
      auto target = [&] { return static_cast<std::uint8_t>(below(std::min(255, size - i - 1))); };
      std::uint32_t choice = below(10);
      sock_filter &in = prog[static_cast<std::size_t>(i)];
      if (i >= size - returns || (choice == 3 && below(3) == 0))
        in = stmt(BPF_RET | BPF_K, 0x7fff0000u + below(4));
      else if (choice < 2)
        in = stmt(BPF_LD | BPF_W | BPF_ABS, kWords[below(std::size(kWords))]);
      else if (choice == 2)
        in = stmt(BPF_ALU | BPF_AND | BPF_K, constant() | (below(2) ? 0xfffffff0u : 0));
      else if (choice == 3)
        in = stmt(BPF_JMP | BPF_JA, target());
      else {
        constexpr int kOps[] = {BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET};
        in = jmp(BPF_JMP | kOps[below(4)] | BPF_K, constant(), target(), target());
      }
    }
    std::optional<std::vector<sock_filter>> out = seccomp::compact(prog);
    if (!out)
      continue;
    ++compacted;
    for (int input = 0; input < 2000; ++input) {
      seccomp_data data{};
      data.nr = static_cast<int>(kValues[below(std::size(kValues))]);
      data.arch = kValues[below(std::size(kValues))];
      data.args[0] = std::uint64_t{kValues[below(std::size(kValues))]} << 32 |
                     kValues[below(std::size(kValues))];
      data.args[1] = std::uint64_t{kValues[below(std::size(kValues))]} << 32 |
                     kValues[below(std::size(kValues))];
      std::optional<Verdict> before = run(prog, data), after = run(*out, data);
      ASSERT_TRUE(before && after);
      ASSERT_EQ(before->action, after->action)
          << "program " << program << ", nr " << data.nr << " arch " << data.arch;
    }
  }
  EXPECT_GT(compacted, 100) << "too few programs rewritten to test anything";
}

TEST(SeccompCompact, LeavesAProgramWithAnInstructionItDoesNotKnow) {
  // The X register, arithmetic: not what libseccomp emits.
  std::vector<sock_filter> program{
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      stmt(BPF_MISC | BPF_TAX, 0),
      stmt(BPF_ALU | BPF_ADD | BPF_X, 0),
      jmp(BPF_JMP | BPF_JEQ | BPF_K, 78, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  EXPECT_FALSE(seccomp::compact(program));
}

TEST(SeccompCompact, LeavesAProgramThatTestsTheAbiForOrder) {
  // Any ABI it does not compare with stands for all others only under equality tests.
  std::vector<sock_filter> program{
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      jmp(BPF_JMP | BPF_JGT | BPF_K, 5, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  EXPECT_FALSE(seccomp::compact(program));
}

TEST(SeccompCompact, LeavesAProgramThatMasksTheNumber) {
  // Numbers between two constants are alike only if nothing looks at their bits.
  std::vector<sock_filter> program{
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      jmp(BPF_JMP | BPF_JSET | BPF_K, 1, 0, 1),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  EXPECT_FALSE(seccomp::compact(program));
}

TEST(SeccompCompact, LeavesAProgramItCannotShorten) {
  EXPECT_FALSE(seccomp::compact({stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)}));
  EXPECT_FALSE(seccomp::compact({}));
}

TEST(SeccompCompact, LeavesAProgramThatRunsOffItsEnd) {
  std::vector<sock_filter> program{
      stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      jmp(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 3),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  EXPECT_FALSE(seccomp::compact(program));
}

} // namespace
