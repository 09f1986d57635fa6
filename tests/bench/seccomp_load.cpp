// Kernel cost of loading the seccomp filter at launch: the child's one
// seccomp(SECCOMP_SET_MODE_FILTER) call, which checks the classic BPF, converts it to eBPF,
// JIT-compiles it and runs it once per syscall number to fill the action cache. Timed around
// the call in a fresh child each time (its only filter, after PR_SET_NO_NEW_PRIVS), for the
// full policy of bench-syscall in the two forms `run` can load: with the supervisor's listener
// (SECCOMP_FILTER_FLAG_NEW_LISTENER, errno refusals handed to it: what `run` loads) and
// without (flags 0, refusals answered by the kernel); each as compile() emits it (compact) and
// as libseccomp exports it; and one empty filter, the floor. The settings take turns, so that
// noise on the machine hits all alike; median, p10 and p90 of each.
//
// Usage: bench-seccomp-load [--quick]   (--quick: 31 loads of each instead of 301)
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
#include <string>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {


[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "bench-seccomp-load: %s\n", what.c_str());
  std::exit(1);
}

rf::Policy bench_policy() { return bench::bench_policy("bench-seccomp-load"); }

struct Setting {
  std::string label;
  std::vector<sock_filter> program;
  unsigned flags;
  std::vector<double> us;
};

// Microseconds of one seccomp(2) load in a fresh child; a negative value if it failed.
double load_once(const Setting &s) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) < 0)
    die(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = ::fork();
  if (pid < 0)
    die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    sock_fprog program{static_cast<unsigned short>(s.program.size()),
                       const_cast<sock_filter *>(s.program.data())};
    ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    auto start = std::chrono::steady_clock::now();
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s.flags, &program);
    double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count();
    if (rc < 0)
      us = -1;
    static_cast<void>(::write(pipefd[1], &us, sizeof us));
    ::_exit(0);
  }
  ::close(pipefd[1]);
  double us = -1;
  if (::read(pipefd[0], &us, sizeof us) != sizeof us)
    us = -1;
  ::close(pipefd[0]);
  ::waitpid(pid, nullptr, 0);
  return us;
}

double at(std::vector<double> v, double fraction) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(fraction * static_cast<double>(v.size() - 1))];
}

std::vector<sock_filter> compiled(const rf::Policy &policy, bool notify) {
  auto filter = rf::seccomp::compile(policy, rf::seccomp::FilterOptions{notify});
  if (!filter)
    die("compile: " + filter.error().message());
  return filter->program;
}

std::vector<sock_filter> exported(const rf::Policy &policy, bool notify) {
  auto program = rf::seccomp::libseccomp_program(policy, rf::seccomp::FilterOptions{notify});
  if (!program)
    die("libseccomp_program: " + program.error().message());
  return *program;
}

} // namespace

int main(int argc, char **argv) {
  int loads = 301;
  if (argc > 1 && std::strcmp(argv[1], "--quick") == 0)
    loads = 31;
  else if (argc > 1)
    die("usage: bench-seccomp-load [--quick]");
  rf::Policy policy = bench_policy();
  const unsigned listener = SECCOMP_FILTER_FLAG_NEW_LISTENER;
  std::vector<Setting> settings{
      {"run's filter, listener: compact", compiled(policy, true), listener, {}},
      {"run's filter, listener: libseccomp", exported(policy, true), listener, {}},
      {"no listener (flags 0): compact", compiled(policy, false), 0, {}},
      {"no listener (flags 0): libseccomp", exported(policy, false), 0, {}},
      {"one empty filter (floor), listener", {{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW}},
       listener, {}},
  };
  for (int i = 0; i < loads; ++i)
    for (Setting &s : settings) {
      double us = load_once(s);
      if (us < 0)
        die(s.label + ": seccomp(SECCOMP_SET_MODE_FILTER) failed");
      s.us.push_back(us);
    }
  std::printf("seccomp(SECCOMP_SET_MODE_FILTER) of the full policy, us: median (p10..p90) of %d "
              "loads, each in a fresh child\n",
              loads);
  for (const Setting &s : settings)
    std::printf("%-40s %5zu instructions  %7.1f us  (%.1f..%.1f)\n", s.label.c_str(),
                s.program.size(), at(s.us, 0.5), at(s.us, 0.1), at(s.us, 0.9));
  return 0;
}
