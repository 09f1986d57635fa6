// Per-syscall cost of the seccomp filter: ns per getppid() with (a) no filter, (b) ringfence's
// one filter, loaded by `ringfence run` for a hardened policy, and (c) a stack of small
// filters shaped like systemd's for the same directives (one per directive, default ALLOW),
// loaded by this program itself. Also the time to build ringfence's filter (compile()),
// which every `ringfence run` pays at launch.
//
// Usage: bench-syscall [--quick] RINGFENCE [RUN OPTIONS...]  (b needs root; skipped otherwise)
//        bench-syscall --inner [--quick] [--systemd-stack | --allow-all]  (one measurement)
#include "policy/syscall_groups.hpp"
#include "seccomp/cache.hpp"
#include "seccomp/filter.hpp"
#include "unit/directives.hpp"
#include "unit/ini_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <set>
#include <string>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

// --quick (CI's smoke run) takes a tenth of the calls and three runs.
long kCalls = 5'000'000;
int kRuns = 7;

// The policy of setting (b), as -p assignments and as unit text for compile().
const std::vector<std::string> kPolicy = {
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

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over kRuns of the mean ns per raw getppid() (no libc caching can skip the call).
double measure_getppid() {
  std::vector<double> runs;
  for (int r = 0; r < kRuns; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < kCalls; ++i)
      ::syscall(SYS_getppid);
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    runs.push_back(elapsed.count() / static_cast<double>(kCalls));
  }
  return median(runs);
}

[[noreturn]] void die(const char *what, int err) {
  std::fprintf(stderr, "bench-syscall: %s: %s\n", what, std::strerror(err));
  std::exit(1);
}

// --- (c): systemd's shape: a filter per directive, each default ALLOW ---------------------

using Filter = scmp_filter_ctx;

Filter new_filter(std::uint32_t default_action) {
  Filter f = seccomp_init(default_action);
  if (!f)
    die("seccomp_init", ENOMEM);
  seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
  seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW); // only the arch filter kills
  return f;
}

void rule(Filter f, std::uint32_t action, const char *name, std::vector<scmp_arg_cmp> args = {}) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR || nr < 0)
    return; // not on this ABI, as systemd skips it
  if (int err = seccomp_rule_add_array(f, action, nr, static_cast<unsigned>(args.size()),
                                       args.data());
      err < 0)
    die(name, -err);
}

void load(Filter f) {
  if (int err = seccomp_load(f); err < 0)
    die("seccomp_load", -err);
  seccomp_release(f);
}

// The filters systemd 252 loads for kPolicy plus the usual Protect*= companions, in its
// order (systemd-semantics.md §2.8), for the native ABI only (SystemCallArchitectures=native
// makes systemd skip the others). Returns how many were loaded.
int load_systemd_stack() {
  const std::uint32_t eperm = SCMP_ACT_ERRNO(EPERM);
  int count = 0;
  auto done = [&](Filter f) {
    load(f);
    ++count;
  };

  { // RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6: refuse the gaps, below and above
    Filter f = new_filter(SCMP_ACT_ALLOW);
    const std::set<int> allowed{AF_UNIX, AF_INET, AF_INET6};
    std::uint32_t refuse = SCMP_ACT_ERRNO(EAFNOSUPPORT);
    rule(f, refuse, "socket", {SCMP_A0(SCMP_CMP_LT, AF_UNIX)});
    rule(f, refuse, "socket", {SCMP_A0(SCMP_CMP_GT, AF_INET6)});
    for (int af = AF_UNIX + 1; af < AF_INET6; ++af)
      if (!allowed.count(af))
        rule(f, refuse, "socket", {SCMP_A0(SCMP_CMP_EQ, static_cast<std::uint64_t>(af))});
    done(f);
  }
  { // MemoryDenyWriteExecute=
    Filter f = new_filter(SCMP_ACT_ALLOW);
    constexpr std::uint64_t wx = PROT_WRITE | PROT_EXEC;
    rule(f, eperm, "mmap", {SCMP_A2(SCMP_CMP_MASKED_EQ, wx, wx)});
    rule(f, eperm, "mprotect", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)});
    rule(f, eperm, "pkey_mprotect", {SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)});
    rule(f, eperm, "shmat", {SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC)});
    done(f);
  }
  { // RestrictRealtime=
    Filter f = new_filter(SCMP_ACT_ALLOW);
    rule(f, eperm, "sched_setscheduler", {SCMP_A1(SCMP_CMP_EQ, SCHED_FIFO)});
    rule(f, eperm, "sched_setscheduler", {SCMP_A1(SCMP_CMP_EQ, SCHED_RR)});
    rule(f, eperm, "sched_setscheduler", {SCMP_A1(SCMP_CMP_GT, SCHED_IDLE)});
    done(f);
  }
  { // RestrictSUIDSGID=
    Filter f = new_filter(SCMP_ACT_ALLOW);
    for (std::uint64_t bit : {std::uint64_t{S_ISUID}, std::uint64_t{S_ISGID}}) {
      for (const char *name : {"chmod", "fchmod", "mkdir", "creat", "mknod"})
        rule(f, eperm, name, {SCMP_A1(SCMP_CMP_MASKED_EQ, bit, bit)});
      for (const char *name : {"fchmodat", "mkdirat", "mknodat"})
        rule(f, eperm, name, {SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit)});
      rule(f, eperm, "open",
           {SCMP_A1(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT), SCMP_A2(SCMP_CMP_MASKED_EQ, bit, bit)});
      rule(f, eperm, "openat",
           {SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT), SCMP_A3(SCMP_CMP_MASKED_EQ, bit, bit)});
    }
    rule(f, SCMP_ACT_ERRNO(ENOSYS), "openat2");
    done(f);
  }
  { // RestrictNamespaces=yes
    Filter f = new_filter(SCMP_ACT_ALLOW);
    rule(f, eperm, "setns");
    for (std::uint64_t flag : {CLONE_NEWCGROUP, CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS,
                               CLONE_NEWPID, CLONE_NEWUSER, CLONE_NEWUTS}) {
      rule(f, eperm, "unshare", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)});
      rule(f, eperm, "clone", {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)});
    }
    rule(f, SCMP_ACT_ERRNO(ENOSYS), "clone3");
    done(f);
  }
  // ProtectKernelTunables=, ProtectKernelModules=, ProtectKernelLogs=, ProtectClock=,
  // PrivateDevices=: one small deny filter each.
  for (std::vector<const char *> names :
       {std::vector<const char *>{"_sysctl"},
        std::vector<const char *>{"init_module", "finit_module", "delete_module"},
        std::vector<const char *>{"syslog"},
        std::vector<const char *>{"adjtimex", "clock_adjtime", "clock_settime", "settimeofday"},
        std::vector<const char *>{"ioperm", "iopl", "pciconfig_iobase", "pciconfig_read",
                                  "pciconfig_write"}}) {
    Filter f = new_filter(SCMP_ACT_ALLOW);
    for (const char *name : names)
      rule(f, eperm, name);
    done(f);
  }
  { // SystemCallArchitectures=native: no rules, other ABIs kill
    Filter f = new_filter(SCMP_ACT_ALLOW);
    seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
    done(f);
  }
  { // LockPersonality=
    Filter f = new_filter(SCMP_ACT_ALLOW);
    rule(f, eperm, "personality", {SCMP_A0(SCMP_CMP_NE, 0)});
    done(f);
  }
  { // SystemCallFilter=@system-service ~@privileged @resources, EPERM: default EPERM, the
    // allowed calls listed (systemd builds allow lists this way, without a binary tree)
    Filter f = new_filter(eperm);
    std::set<std::string> names;
    for (const char *group : {"@system-service", "@default"})
      for (const std::string &n : rf::syscalls::expand_group(group))
        names.insert(n);
    for (const char *group : {"@privileged", "@resources"})
      for (const std::string &n : rf::syscalls::expand_group(group))
        names.erase(n);
    for (const std::string &n : names)
      rule(f, SCMP_ACT_ALLOW, n.c_str());
    done(f);
  }
  return count;
}

// The floor: one filter with no rule at all (default allow). Whatever a filter costs an
// allowed call beyond this is the filter's own doing.
void load_allow_all() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx)
    die("seccomp_init", ENOMEM);
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
  if (int err = seccomp_load(ctx); err < 0)
    die("seccomp_load", -err);
  seccomp_release(ctx);
}

int inner(bool systemd_stack, bool allow_all = false) {
  if (allow_all)
    load_allow_all();
  if (systemd_stack) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      die("PR_SET_NO_NEW_PRIVS", errno);
    int filters = load_systemd_stack();
    std::fprintf(stderr, "bench-syscall: loaded %d filters\n", filters);
  }
  std::printf("%.2f\n", measure_getppid());
  return 0;
}

// Runs argv and returns its stdout's number (ns/call), or a negative value on failure.
double run_inner(const std::vector<std::string> &argv) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0)
    die("pipe", errno);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(pipefd[1], STDOUT_FILENO);
    std::vector<char *> args;
    for (const auto &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  ::close(pipefd[1]);
  std::string out;
  char buf[256];
  for (ssize_t n; (n = ::read(pipefd[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.empty()) {
    std::fprintf(stderr, "bench-syscall: %s failed (status %d)\n", argv[0].c_str(), status);
    return -1;
  }
  return std::strtod(out.c_str(), nullptr);
}

std::string self_path() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n < 0)
    die("readlink /proc/self/exe", errno);
  return std::string(buf, static_cast<std::size_t>(n));
}

// Building the filter for kPolicy, as `ringfence run` does once per launch.
void measure_compile() {
  std::string text = "[Service]\nExecStart=/bin/true\n";
  for (const auto &p : kPolicy)
    text += p + "\n";
  rf::Diagnostics diags;
  rf::unit::LoadedUnit unit;
  unit.name = *rf::unit::parse_unit_name("bench.service");
  unit.assignments = rf::unit::parse_ini(text, "bench.service", diags);
  rf::Policy policy = rf::unit::build_policy(unit, {}, diags).policy;
  if (diags.has_errors()) {
    std::fprintf(stderr, "bench-syscall: the benchmark policy does not parse\n");
    std::exit(1);
  }
  std::vector<double> times;
  std::size_t instructions = 0;
  for (int i = 0; i < 51; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto filter = rf::seccomp::compile(policy);
    std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    if (!filter) {
      std::fprintf(stderr, "bench-syscall: compile: %s\n", filter.error().message().c_str());
      std::exit(1);
    }
    instructions = filter->program.size();
    times.push_back(elapsed.count());
  }
  double first = times.front();
  std::printf("filter build (compile): first %.3f ms, median %.3f ms of %zu; "
              "%zu BPF instructions\n",
              first, median(times), times.size(), instructions);

  // What `run` pays once the program is cached (/run/ringfence/seccomp): a file read.
  char directory[] = "/tmp/bench-syscall-cache-XXXXXX";
  if (!::mkdtemp(directory))
    die("mkdtemp", errno);
  std::string cache = std::string(directory) + "/cache";
  static_cast<void>(rf::seccomp::compile_cached(policy, cache)); // fills the cache
  std::vector<double> hits;
  for (int i = 0; i < 51; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto filter = rf::seccomp::compile_cached(policy, cache);
    std::chrono::duration<double, std::milli> elapsed = std::chrono::steady_clock::now() - start;
    if (!filter)
      die("compile_cached", EINVAL);
    hits.push_back(elapsed.count());
  }
  std::system(("rm -rf " + std::string(directory)).c_str());
  std::printf("filter at launch, from the cache: median %.3f ms of %zu (target <= 0.3 ms)\n",
              median(hits), hits.size());
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool is_inner = !args.empty() && args[0] == "--inner";
  if (is_inner)
    args.erase(args.begin());
  bool quick = !args.empty() && args[0] == "--quick";
  if (quick) {
    args.erase(args.begin());
    kCalls /= 10;
    kRuns = 3;
  }
  if (is_inner)
    return inner(!args.empty() && args[0] == "--systemd-stack",
                 !args.empty() && args[0] == "--allow-all");
  if (args.empty()) {
    std::fprintf(stderr, "usage: %s [--quick] RINGFENCE [RUN OPTIONS...]\n", argv[0]);
    return 2;
  }
  std::string self = self_path();
  // The inner measurements take the same number of calls as this process.
  std::vector<std::string> inner_args{self, "--inner"};
  if (quick)
    inner_args.emplace_back("--quick");
  auto with = [&](std::vector<std::string> before, std::vector<std::string> after) {
    before.insert(before.end(), inner_args.begin(), inner_args.end());
    before.insert(before.end(), after.begin(), after.end());
    return before;
  };
  std::printf("ns per getppid(), median of %d runs of %ld calls\n", kRuns, kCalls);

  double bare = run_inner(with({}, {}));
  std::printf("(a) no seccomp:               %7.2f ns\n", bare);

  if (::geteuid() == 0) {
    std::vector<std::string> wrapped{args[0], "run"};
    wrapped.insert(wrapped.end(), args.begin() + 1, args.end());
    for (const auto &p : kPolicy) {
      wrapped.emplace_back("-p");
      wrapped.push_back(p);
    }
    wrapped.emplace_back("--");
    double one = run_inner(with(wrapped, {}));
    std::printf("(b) ringfence, one filter:    %7.2f ns  (+%.2f ns, x%.2f)\n", one, one - bare,
                one / bare);
  } else {
    std::printf("(b) ringfence, one filter:    skipped (ringfence run needs root)\n");
  }

  double floor = run_inner(with({}, {"--allow-all"}));
  std::printf("(f) one empty filter (floor): %7.2f ns  (+%.2f ns, x%.2f)\n", floor, floor - bare,
              floor / bare);
  double stack = run_inner(with({}, {"--systemd-stack"}));
  std::printf("(c) systemd-shaped stack:     %7.2f ns  (+%.2f ns, x%.2f)\n", stack, stack - bare,
              stack / bare);

  measure_compile();
  return 0;
}
