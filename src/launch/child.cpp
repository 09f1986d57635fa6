#include "launch/child.hpp"

#include "util/unique_fd.hpp"

#include <cerrno>
#include <cstring>
#include <csignal>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/mount.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rf::launch {
namespace {

[[noreturn]] void fail(int report_fd, SetupStep step, int err = errno) {
  ChildReport report{step, err};
  // Nothing more can be done if this write fails: the supervisor then sees the child exit
  // without an exec, and reports that.
  [[maybe_unused]] ssize_t n = ::write(report_fd, &report, sizeof report);
  ::_exit(125);
}

// execve resets handled signals to their default, but ignored ones stay ignored: the
// service starts with the defaults.
void reset_ignored_signals(const sigset_t &ignored) {
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig)
    if (sigismember(&ignored, sig) == 1)
      ::sigaction(sig, &action, nullptr);
}

// The caller's fds (other than stdio and socket-activation fds) must not reach the
// service. Marked close-on-exec rather than closed: the mount step still needs the
// cgroup fd until exec.
bool hide_inherited_fds(int listen_fds) {
  for (int fd = 3; fd < 3 + listen_fds; ++fd)
    if (::fcntl(fd, F_SETFD, 0) < 0)
      return false;
  return ::close_range(static_cast<unsigned>(3 + listen_fds), ~0u, CLOSE_RANGE_CLOEXEC) == 0;
}

bool make_read_only(const std::string &path, bool recursive) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  return ::mount_setattr(AT_FDCWD, path.c_str(), recursive ? AT_RECURSIVE : 0, &attr,
                         sizeof attr) == 0;
}

// A private mount namespace, so the service cannot write to cgroupfs (move itself out of
// its cgroup, undo limits) or to ringfence's own files, and a cgroup namespace so that
// /proc/self/cgroup matches what it sees. Dropping CAP_SYS_ADMIN (bounding set) is what
// keeps it from undoing these mounts.
bool enter_mount_namespace(const MountPlan &plan) {
  if (::unshare(CLONE_NEWNS | CLONE_NEWCGROUP) < 0)
    return false;
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0)
    return false;
  // Clones of the service's cgroup subtree, all taken before the first one covers a
  // cgroup2 mount point (after that, the source path would resolve into the clone).
  UniqueFd trees[MountPlan::kMaxCgroup2Mounts];
  if (plan.cgroup2_mounts.size() > MountPlan::kMaxCgroup2Mounts) {
    errno = E2BIG;
    return false;
  }
  for (std::size_t i = 0; i < plan.cgroup2_mounts.size(); ++i) {
    trees[i].reset(::open_tree(AT_FDCWD, plan.own_cgroup.c_str(),
                               OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!trees[i])
      return false;
  }
  for (std::size_t i = 0; i < plan.cgroup2_mounts.size(); ++i)
    if (::move_mount(trees[i].get(), "", AT_FDCWD, plan.cgroup2_mounts[i].c_str(),
                     MOVE_MOUNT_F_EMPTY_PATH) < 0)
      return false;
  // After the moves, so that the clones are read-only too.
  for (const std::string &mount_point : plan.read_only_mounts)
    if (!make_read_only(mount_point, true))
      return false;
  for (const std::string &path : plan.read_only_paths)
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0 ||
        !make_read_only(path, false))
      return false;
  return true;
}

bool drop_bounding_set(const ExecPlan &plan) {
  for (int cap = 0; cap <= plan.last_cap; ++cap)
    if (!(plan.bounding_set >> cap & 1) && ::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0)
      return false;
  return true;
}

bool set_capability_sets(std::uint64_t permitted, std::uint64_t inheritable) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  for (int i = 0; i < 2; ++i) {
    data[i].permitted = static_cast<std::uint32_t>(permitted >> (32 * i));
    data[i].effective = data[i].permitted;
    data[i].inheritable = static_cast<std::uint32_t>(inheritable >> (32 * i));
  }
  return ::syscall(SYS_capset, &header, data) == 0;
}

// After the uid change (with keep-caps) the permitted set is still whole: trim it to the
// ambient set, which the kernel requires to be permitted and inheritable, then raise it.
bool raise_ambient(const ExecPlan &plan) {
  std::uint64_t ambient = plan.ambient & plan.bounding_set;
  if (plan.change_user && plan.credentials.uid != 0 && !set_capability_sets(ambient, ambient))
    return false;
  if (!plan.change_user || plan.credentials.uid == 0) {
    // Root keeps its permitted set; only the inheritable set must include the ambient caps.
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2]{};
    if (::syscall(SYS_capget, &header, data) < 0)
      return false;
    data[0].inheritable |= static_cast<std::uint32_t>(ambient);
    data[1].inheritable |= static_cast<std::uint32_t>(ambient >> 32);
    if (::syscall(SYS_capset, &header, data) < 0)
      return false;
  }
  for (int cap = 0; cap <= plan.last_cap; ++cap)
    if ((ambient >> cap & 1) && ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
      return false;
  return true;
}

void write_decimal(char *out, long value) {
  char digits[24];
  int n = 0;
  do
    digits[n++] = static_cast<char>('0' + value % 10);
  while ((value /= 10) > 0);
  while (n > 0)
    *out++ = digits[--n];
  *out = '\0';
}

// What execve() would say, as far as access() can tell: no candidate → ENOENT, none
// executable → EACCES.
void check_executable(const ExecPlan &plan, int report_fd) {
  int err = ENOENT;
  for (const std::string &path : plan.exec_candidates) {
    if (::access(path.c_str(), X_OK) == 0)
      return;
    if (errno != ENOENT && errno != ENOTDIR)
      err = errno;
  }
  fail(report_fd, SetupStep::exec, err);
}

// execve() each candidate in turn, as execvp() does: ENOENT moves on, EACCES is remembered
// and moves on, any other error ends the search.
[[noreturn]] void exec_command(const ExecPlan &plan, ExecArrays &arrays, int report_fd) {
  if (plan.listen_pid_index >= 0)
    write_decimal(arrays.listen_pid + std::strlen("LISTEN_PID="), ::getpid());
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  int err = ENOENT;
  for (const std::string &path : plan.exec_candidates) {
    ::execve(path.c_str(), arrays.argv.data(), arrays.envp.data());
    if (errno == ENOENT || errno == ENOTDIR)
      continue;
    err = errno;
    if (err != EACCES) // EACCES: a later PATH entry may still hold an executable one
      break;
  }
  fail(report_fd, SetupStep::exec, err);
}

} // namespace

ExecArrays::ExecArrays(const ExecPlan &plan) {
  for (const std::string &arg : plan.argv)
    argv.push_back(const_cast<char *>(arg.c_str()));
  argv.push_back(nullptr);
  for (std::size_t i = 0; i < plan.envp.size(); ++i)
    envp.push_back(static_cast<int>(i) == plan.listen_pid_index
                       ? listen_pid
                       : const_cast<char *>(plan.envp[i].c_str()));
  envp.push_back(nullptr);
}

const char *step_description(SetupStep step) {
  switch (step) {
  case SetupStep::file_descriptors: return "closing inherited file descriptors";
  case SetupStep::mount_namespace: return "mount namespace";
  case SetupStep::bounding_set: return "capability bounding set";
  case SetupStep::keep_caps: return "keep-caps";
  case SetupStep::groups: return "supplementary groups";
  case SetupStep::gid: return "group id";
  case SetupStep::uid: return "user id";
  case SetupStep::parent_death_signal: return "parent-death signal";
  case SetupStep::ambient_capabilities: return "ambient capabilities";
  case SetupStep::working_directory: return "working directory";
  case SetupStep::umask: return "umask";
  case SetupStep::rlimits: return "resource limits";
  case SetupStep::no_new_privs: return "no_new_privs";
  case SetupStep::seccomp: return "seccomp filter";
  case SetupStep::exec: return "exec";
  }
  return "setup";
}

const char *step_stage(SetupStep step) {
  switch (step) {
  case SetupStep::file_descriptors: return "file-descriptors";
  case SetupStep::mount_namespace: return "mount-namespace";
  case SetupStep::bounding_set: return "bounding-set";
  case SetupStep::keep_caps: return "keep-caps";
  case SetupStep::groups: return "groups";
  case SetupStep::gid: return "gid";
  case SetupStep::uid: return "uid";
  case SetupStep::parent_death_signal: return "pdeathsig";
  case SetupStep::ambient_capabilities: return "ambient-capabilities";
  case SetupStep::working_directory: return "working-directory";
  case SetupStep::umask: return "umask";
  case SetupStep::rlimits: return "rlimits";
  case SetupStep::no_new_privs: return "no-new-privs";
  case SetupStep::seccomp: return "seccomp";
  case SetupStep::exec: return "exec";
  }
  return "setup";
}

// The order is systemd's (exec-invoke.c), and it matters:
//  - the cgroup is joined at birth (CLONE_INTO_CGROUP): there is no unconfined instant;
//  - mounts need CAP_SYS_ADMIN, so they come before the bounding set drop;
//  - keep-caps must be set while still root, so ambient caps survive setresuid();
//  - groups before gid before uid: each needs the privilege the next one gives up;
//  - the parent-death signal is cleared by a uid change, so it is set after it;
//  - ambient caps can only be raised once the uid is final;
//  - chdir as the service's user, so directory permissions apply to it;
//  - RLIMIT_RTPRIO (RestrictRealtime=) while setrlimit is surely allowed;
//  - no_new_privs before seccomp (the kernel requires it without CAP_SYS_ADMIN), and
//    seccomp last, so the filter needs to allow nothing but execve.
void run_child(const ExecPlan &plan, ExecArrays &arrays, int report_fd) {
  reset_ignored_signals(plan.ignored_signals);
  if (!hide_inherited_fds(plan.listen_fds))
    fail(report_fd, SetupStep::file_descriptors);
  if (plan.private_mounts && !enter_mount_namespace(plan.mounts))
    fail(report_fd, SetupStep::mount_namespace);
  if (!drop_bounding_set(plan))
    fail(report_fd, SetupStep::bounding_set);
  bool keep_caps = plan.ambient != 0 && plan.change_user && plan.credentials.uid != 0;
  if (keep_caps && ::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
    fail(report_fd, SetupStep::keep_caps);

  // Raw system calls: glibc's wrappers would try to apply them to every thread of the
  // process, and this child shares the supervisor's memory.
  const Credentials &creds = plan.credentials;
  if (::syscall(SYS_setgroups, creds.groups.size(), creds.groups.data()) < 0)
    fail(report_fd, SetupStep::groups);
  if (::syscall(SYS_setresgid, creds.gid, creds.gid, creds.gid) < 0)
    fail(report_fd, SetupStep::gid);
  if (plan.change_user && ::syscall(SYS_setresuid, creds.uid, creds.uid, creds.uid) < 0)
    fail(report_fd, SetupStep::uid);

  // If the supervisor died before this point, the signal would never come.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
    fail(report_fd, SetupStep::parent_death_signal);
  if (::getppid() != plan.supervisor)
    ::_exit(125);

  if (plan.ambient != 0 && !raise_ambient(plan))
    fail(report_fd, SetupStep::ambient_capabilities);
  // '-' prefix: a missing directory is no error, and the service starts in "/".
  if (::chdir(plan.working_directory.c_str()) < 0 &&
      (!plan.working_directory_optional || ::chdir("/") < 0))
    fail(report_fd, SetupStep::working_directory);
  ::umask(plan.umask);
  if (plan.restrict_realtime) {
    rlimit none{0, 0};
    if (::setrlimit(RLIMIT_RTPRIO, &none) < 0)
      fail(report_fd, SetupStep::rlimits);
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    fail(report_fd, SetupStep::no_new_privs);
  if (!plan.seccomp.empty()) {
    // The filter may refuse write(): report a missing command while that still works.
    check_executable(plan, report_fd);
    sock_fprog program{static_cast<unsigned short>(plan.seccomp.size()),
                       const_cast<sock_filter *>(plan.seccomp.data())};
    // From here on, only the calls the filter never hands to the supervisor (see
    // seccomp::FilterOptions): the supervisor cannot answer before the exec.
    unsigned flags = plan.seccomp_listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long loaded = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
    if (loaded < 0 && errno == EBUSY && !plan.seccomp_without_listener.empty()) {
      sock_fprog plain{static_cast<unsigned short>(plan.seccomp_without_listener.size()),
                       const_cast<sock_filter *>(plan.seccomp_without_listener.data())};
      flags = 0;
      loaded = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &plain);
    }
    if (loaded < 0)
      fail(report_fd, SetupStep::seccomp);
    if (flags != 0)
      arrays.seccomp_listener = static_cast<int>(loaded); // close-on-exec: only ours after it
  }
  exec_command(plan, arrays, report_fd);
}

} // namespace rf::launch
