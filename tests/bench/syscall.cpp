// Per-syscall cost of the seccomp filter: ns per getppid() with (a) no filter, (b) ringfence's
// one filter, loaded by `ringfence run` for a hardened policy (with the run's audit probe),
// (g) the same filter loaded by this program as the service's child loads it (no run, no
// probe), (l) the same policy's program as libseccomp exports it (before seccomp::compact()),
// loaded the same way, (f) one empty filter, the floor of any filter, (s) the same with
// SECCOMP_FILTER_FLAG_SPEC_ALLOW, (u) one filter that the kernel's action cache cannot
// answer for getppid (one argument rule on it), and (c) a stack of small filters shaped like
// systemd's for the same directives (one per directive, default ALLOW). All on one CPU, in
// rounds, each round measuring every setting: the differences are taken within a round.
// Also the time to build ringfence's filter (compile()), to take it from the cache, and to
// load it (seccomp(2)), which a launch pays.
//
// Usage: bench-syscall [--quick] RINGFENCE [RUN OPTIONS...]  (b needs root; skipped otherwise)
//        bench-syscall --inner [--quick] [SETTING]   (one measurement, ns/call; SETTING: --systemd-stack,
//                      --allow-all, --allow-all-spec, --uncached, --ringfence-filter,
//                      --libseccomp-filter)
#include "policy/syscall_groups.hpp"
#include "seccomp/cache.hpp"
#include "full_policy.hpp"
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
#include <linux/seccomp.h>
#include <map>
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

// --quick (CI's smoke run, and tests/bench/run's rounds) takes a tenth of the calls.
long kCalls = 2'000'000;
int kRuns = 5;
int kRounds = 5;

// Removes a leading --quick from `args`, and makes the run short if there was one.
void take_quick(std::vector<std::string> &args) {
  if (args.empty() || args[0] != "--quick")
    return;
  args.erase(args.begin());
  kCalls /= 10;
  kRuns = 3;
  kRounds = 2;
}

using bench::kPolicy;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// The least over kRuns of the mean ns per raw getppid() (no libc caching can skip the call).
// The least, not the median: other load on the machine only ever adds time, and what is
// measured is what a call costs.
double measure_getppid() {
  std::vector<double> runs;
  for (int r = 0; r < kRuns; ++r) {
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < kCalls; ++i)
      ::syscall(SYS_getppid);
    std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    runs.push_back(elapsed.count() / static_cast<double>(kCalls));
  }
  return *std::min_element(runs.begin(), runs.end());
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
      for (std::string_view n : rf::syscalls::expand_group(group))
        names.emplace(n);
    for (const char *group : {"@privileged", "@resources"})
      for (std::string_view n : rf::syscalls::expand_group(group))
        names.erase(std::string(n));
    for (const std::string &n : names)
      rule(f, SCMP_ACT_ALLOW, n.c_str());
    done(f);
  }
  return count;
}

// The floor: one filter with no rule at all (default allow). Whatever a filter costs an
// allowed call beyond this is the filter's own doing. `spec_allow`: without the speculative
// store bypass mitigation that seccomp otherwise forces on the task (where the CPU has it).
void load_allow_all(bool spec_allow) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx)
    die("seccomp_init", ENOMEM);
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
  if (spec_allow)
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
  if (int err = seccomp_load(ctx); err < 0)
    die("seccomp_load", -err);
  seccomp_release(ctx);
}

// An allow-all filter with one argument rule on getppid: the action cache cannot answer
// getppid, so the (JIT-compiled) filter runs on every call.
void load_uncached() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx)
    die("seccomp_init", ENOMEM);
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
  seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(getppid), 1, SCMP_A0(SCMP_CMP_EQ, 12345));
  if (int err = seccomp_load(ctx); err < 0)
    die("seccomp_load", -err);
  seccomp_release(ctx);
}

rf::Policy bench_policy() { return bench::bench_policy("bench-syscall"); }

// ringfence's filter for kPolicy, loaded as the service's child loads it (src/launch/child.cpp);
// `libseccomp`: the program as libseccomp exports it, before seccomp::compact().
void load_ringfence_filter(bool libseccomp = false) {
  std::vector<sock_filter> instructions;
  if (libseccomp) {
    auto exported = rf::seccomp::libseccomp_program(bench_policy());
    if (!exported) {
      std::fprintf(stderr, "bench-syscall: %s\n", exported.error().message().c_str());
      std::exit(1);
    }
    instructions = *exported;
  } else {
    auto filter = rf::seccomp::compile(bench_policy());
    if (!filter) {
      std::fprintf(stderr, "bench-syscall: compile: %s\n", filter.error().message().c_str());
      std::exit(1);
    }
    instructions = filter->program;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    die("PR_SET_NO_NEW_PRIVS", errno);
  sock_fprog program{static_cast<unsigned short>(instructions.size()), instructions.data()};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) < 0)
    die("seccomp", errno);
}

int inner(const std::string &setting) {
  if (setting == "--allow-all" || setting == "--allow-all-spec")
    load_allow_all(setting == "--allow-all-spec");
  else if (setting == "--uncached")
    load_uncached();
  else if (setting == "--ringfence-filter" || setting == "--libseccomp-filter")
    load_ringfence_filter(setting == "--libseccomp-filter");
  else if (setting == "--systemd-stack") {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      die("PR_SET_NO_NEW_PRIVS", errno);
    load_systemd_stack();
  } else if (!setting.empty()) {
    std::fprintf(stderr, "bench-syscall: unknown setting %s\n", setting.c_str());
    return 2;
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
  rf::Policy policy = bench_policy();
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

  // The child's share: seccomp(SECCOMP_SET_MODE_FILTER) with the program (the kernel
  // checks it, converts it to eBPF, JIT-compiles it and fills the action cache), each in a
  // fresh child so that it is the task's only filter.
  auto filter = rf::seccomp::compile(policy);
  std::vector<double> loads;
  for (int i = 0; i < 21 && filter; ++i) {
    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0)
      die("pipe", errno);
    pid_t pid = ::fork();
    if (pid == 0) {
      sock_fprog program{static_cast<unsigned short>(filter->program.size()),
                         filter->program.data()};
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      auto start = std::chrono::steady_clock::now();
      long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program);
      double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                            start)
                      .count();
      if (rc < 0)
        ms = -1;
      static_cast<void>(::write(pipefd[1], &ms, sizeof ms));
      ::_exit(0);
    }
    ::close(pipefd[1]);
    double ms = -1;
    if (::read(pipefd[0], &ms, sizeof ms) == sizeof ms && ms >= 0)
      loads.push_back(ms);
    ::close(pipefd[0]);
    ::waitpid(pid, nullptr, 0);
  }
  if (loads.empty())
    die("seccomp(SECCOMP_SET_MODE_FILTER)", EINVAL);
  std::printf("filter at launch: from the cache median %.3f ms of %zu, seccomp(2) load median "
              "%.3f ms of %zu; sum %.3f ms (target <= 0.3 ms)\n",
              median(hits), hits.size(), median(loads), loads.size(),
              median(hits) + median(loads));
}

// Runs of this program run on one CPU: the two CPUs of the reference machine differ and
// are shared, and the per-call differences measured are a fraction of the spread between
// them.
void pin_to_last_cpu() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof set, &set) < 0)
    return;
  int last = -1;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &set))
      last = cpu;
  CPU_ZERO(&set);
  CPU_SET(last, &set);
  ::sched_setaffinity(0, sizeof set, &set);
}

struct Setting {
  const char *label;
  std::vector<std::string> argv;
};

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  bool is_inner = !args.empty() && args[0] == "--inner";
  if (is_inner)
    args.erase(args.begin());
  take_quick(args);
  if (is_inner)
    return inner(args.empty() ? "" : args[0]);
  if (args.empty()) {
    std::fprintf(stderr, "usage: %s [--quick] RINGFENCE [RUN OPTIONS...]\n", argv[0]);
    return 2;
  }
  pin_to_last_cpu();
  std::string self = self_path();
  std::vector<Setting> settings{
      {"(a) no seccomp", {self, "--inner"}},
      {"(b) ringfence run, one filter + audit probe", {}},
      {"(g) ringfence's filter, no run", {self, "--inner", "--ringfence-filter"}},
      {"(l) libseccomp's program, no run", {self, "--inner", "--libseccomp-filter"}},
      {"(f) one empty filter (floor)", {self, "--inner", "--allow-all"}},
      {"(s) empty filter, SPEC_ALLOW", {self, "--inner", "--allow-all-spec"}},
      {"(u) getppid not cached", {self, "--inner", "--uncached"}},
      {"(c) systemd-shaped stack (13)", {self, "--inner", "--systemd-stack"}},
  };
  if (::geteuid() == 0) {
    std::vector<std::string> &wrapped = settings[1].argv;
    wrapped = {args[0], "run"};
    for (std::size_t i = 1; i < args.size(); ++i)
      wrapped.push_back(args[i]);
    for (const auto &p : kPolicy) {
      wrapped.emplace_back("-p");
      wrapped.push_back(p);
    }
    wrapped.insert(wrapped.end(), {"--", self, "--inner"});
  }
  std::printf("ns per getppid(), least of %d runs of %ld calls, %d rounds on one CPU; "
              "median of the rounds; +ns is against (a) of the same round\n",
              kRuns, kCalls, kRounds);
  std::map<std::string, std::vector<double>> ns, extra;
  for (int round = 0; round < kRounds; ++round) {
    double bare = 0;
    for (const Setting &s : settings) {
      if (s.argv.empty())
        continue;
      double v = run_inner(s.argv);
      if (v < 0)
        continue;
      if (s.argv.size() == 2)
        bare = v;
      ns[s.label].push_back(v);
      extra[s.label].push_back(v - bare);
    }
  }
  for (const Setting &s : settings) {
    if (s.argv.empty()) {
      std::printf("%-44s skipped (ringfence run needs root)\n", s.label);
      continue;
    }
    if (ns[s.label].empty())
      continue;
    std::printf("%-44s %7.2f ns  (+%.2f ns)\n", s.label, median(ns[s.label]),
                median(extra[s.label]));
  }
  measure_compile();
  return 0;
}
