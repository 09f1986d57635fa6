// sc-probe: makes one system call (or a few) as the seccomp integration tests ask, and
// prints "ok" or "errno=NAME" on stdout, exiting 0 either way, so that a test tells a
// filter's errno from a kill (exit 128+SIGSYS through ringfence) by the output alone.
// Raw syscall() is used where glibc might substitute another call (clone3 → clone).
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/io_uring.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

int report(long result) {
  if (result >= 0)
    std::printf("ok\n");
  else
    std::printf("errno=%s\n", strerrorname_np(errno));
  return 0;
}

long number(const char *s) { return std::strtol(s, nullptr, 0); }

int usage() {
  std::fprintf(stderr,
               "usage: sc-probe socket AF | unshare FLAGS | setns-reaped FLAGS | clone3 |\n"
               "  personality X | mmap PROT | mprotect PROT | sched POLICY | rtprio |\n"
               "  chmod MODE PATH | create MODE PATH | fchmodat2 MODE PATH | syscall NR |\n"
               "  io_uring_setup | getpid | with-listener CMD [ARG...]\n");
  return 2;
}

// setns() on a pidfd of a child that has exited and was reaped: the kernel answers ESRCH
// once the flags pass its checks, so EPERM can only come from the filter.
long setns_reaped(long flags) {
  pid_t child = ::fork();
  if (child == 0)
    ::_exit(0);
  int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, child, 0));
  ::waitpid(child, nullptr, 0);
  if (pidfd < 0)
    return -1;
  return ::syscall(SYS_setns, pidfd, flags);
}

// Loads a filter that allows everything but has a seccomp listener (kept open without
// close-on-exec, so that it lives on), then execs argv: what runs has a listener in its
// filter chain already, and the kernel refuses it another (EBUSY).
int with_listener(char **argv) {
  sock_filter allow{BPF_RET | BPF_K, 0, 0, SECCOMP_RET_ALLOW};
  sock_fprog program{1, &allow};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return 125;
  int listener = static_cast<int>(
      ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program));
  if (listener < 0 || ::fcntl(listener, F_DUPFD, 100) < 0)
    return 125;
  ::execvp(argv[0], argv);
  return 127;
}

} // namespace

int main(int argc, char **argv) {
  if (argc > 2 && std::string(argv[1]) == "with-listener")
    return with_listener(argv + 2);
  if (argc < 2)
    return usage();
  std::string what = argv[1];
  const char *arg = argc > 2 ? argv[2] : "0";
  const char *path = argc > 3 ? argv[3] : "";
  if (what == "getpid")
    return report(::syscall(SYS_getpid));
  if (what == "socket")
    return report(::socket(static_cast<int>(number(arg)), SOCK_DGRAM, 0));
  if (what == "unshare")
    return report(::syscall(SYS_unshare, number(arg)));
  if (what == "setns-reaped")
    return report(setns_reaped(number(arg)));
  if (what == "clone3")
    return report(::syscall(SYS_clone3, nullptr, 0)); // EINVAL/EFAULT if it gets through
  if (what == "personality")
    return report(::syscall(SYS_personality, number(arg)));
  if (what == "mmap") {
    void *p = ::mmap(nullptr, 4096, static_cast<int>(number(arg)), MAP_PRIVATE | MAP_ANONYMOUS,
                     -1, 0);
    return report(p == MAP_FAILED ? -1 : 0);
  }
  if (what == "mprotect") {
    void *p = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
      return report(-1);
    return report(::mprotect(p, 4096, static_cast<int>(number(arg))));
  }
  if (what == "sched") {
    sched_param param{};
    int policy = static_cast<int>(number(arg));
    param.sched_priority = policy == SCHED_FIFO || policy == SCHED_RR ? 1 : 0;
    return report(::syscall(SYS_sched_setscheduler, 0, policy, &param));
  }
  if (what == "rtprio") {
    rlimit limit{};
    if (::getrlimit(RLIMIT_RTPRIO, &limit) < 0)
      return report(-1);
    std::printf("rtprio=%llu/%llu\n", static_cast<unsigned long long>(limit.rlim_cur),
                static_cast<unsigned long long>(limit.rlim_max));
    return 0;
  }
  if (what == "chmod")
    return report(::syscall(SYS_chmod, path, number(arg)));
  if (what == "fchmodat2")
    return report(::syscall(452 /* fchmodat2 */, AT_FDCWD, path, number(arg), 0));
  if (what == "create")
    return report(::syscall(SYS_openat, AT_FDCWD, path, O_CREAT | O_EXCL | O_WRONLY, number(arg)));
  if (what == "syscall")
    return report(::syscall(number(arg), 0, 0, 0, 0, 0, 0));
  if (what == "io_uring_setup") {
    io_uring_params params{};
    return report(::syscall(SYS_io_uring_setup, 4, &params));
  }
  return usage();
}
