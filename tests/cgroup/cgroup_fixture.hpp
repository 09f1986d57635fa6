// Shared by the privileged cgroup and netfilter tests: a unique cgroup path
// per test, and a way to start a process inside a cgroup.
#pragma once

#include "cgroup/cgroup.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <gtest/gtest.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <string>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rf::test {

// "<cgroup2 mount><own cgroup>/ringfence-test/<Suite>.<Test>-<pid>", found on
// the live system. The test cgroups sit under this process's own cgroup so the
// tests also work in a delegated subtree. The destructor removes whatever the
// test left behind, and the shared parent once it is empty.
class TestCgroupPath {
public:
  TestCgroupPath() {
    Result<std::string> mount = cgroup::find_cgroup2_mount();
    Result<std::string> own = cgroup::own_cgroup_path();
    if (!mount || !own) {
      ADD_FAILURE() << (mount ? own.error() : mount.error()).message();
      return;
    }
    std::string base = *own == "/" ? std::string() : *own;
    const ::testing::TestInfo *test = ::testing::UnitTest::GetInstance()->current_test_info();
    relative_ = base + "/ringfence-test/" + test->test_suite_name() + "." + test->name() + "-" +
                std::to_string(getpid());
    parent_ = *mount + base + "/ringfence-test";
    path_ = *mount + relative_;
    if (::mkdir(parent_.c_str(), 0755) < 0 && errno != EEXIST)
      ADD_FAILURE() << "mkdir " << parent_ << ": " << std::strerror(errno);
  }
  ~TestCgroupPath() {
    if (path_.empty())
      return;
    // Both may legitimately fail: the test removed its cgroup, or another
    // test binary still uses the parent.
    ::rmdir(path_.c_str());
    ::rmdir(parent_.c_str());
  }
  TestCgroupPath(const TestCgroupPath &) = delete;
  TestCgroupPath &operator=(const TestCgroupPath &) = delete;

  // Absolute directory to create, e.g. /sys/fs/cgroup/unified/ringfence-test/X.
  const std::string &path() const { return path_; }
  // The same cgroup as /proc/<pid>/cgroup names it ("0::" + relative()).
  const std::string &relative() const { return relative_; }

private:
  std::string parent_, path_, relative_;
};

inline bool path_exists(const std::string &path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// clone3(CLONE_INTO_CGROUP): the child starts inside the cgroup, with no
// window where it runs elsewhere. The child runs `body` and exits with its
// result; it is a copy of this single-threaded process, so `body` must stick
// to plain system calls. Returns the child's pid, or -1 with errno set.
template <typename Body> pid_t clone_into_cgroup(int cgroup_fd, Body body) {
  clone_args args{};
  args.flags = CLONE_INTO_CGROUP;
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  long pid = ::syscall(SYS_clone3, &args, sizeof args);
  if (pid == 0)
    ::_exit(body());
  return static_cast<pid_t>(pid);
}

// The raw wait status of `pid`, retrying on EINTR; -1 on failure.
inline int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

} // namespace rf::test
