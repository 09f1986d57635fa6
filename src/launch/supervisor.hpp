// The supervisor's side of a run: creating the service process inside its cgroup, learning
// whether its setup succeeded, relaying signals, and waiting for the end of the run.
#pragma once

#include "launch/child.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <poll.h>
#include <set>
#include <sys/types.h>
#include <unordered_map>
#include <vector>

namespace rf::launch {

// Blocks SIGCHLD and the signals ringfence forwards, and delivers them through a signalfd
// instead: no handlers, no races with waitpid. The previous mask is restored on
// destruction. The child unblocks them just before execve.
class SignalRelay {
public:
  static Result<SignalRelay> install();
  SignalRelay(SignalRelay &&other) noexcept;
  SignalRelay &operator=(SignalRelay &&) = delete;
  ~SignalRelay();
  int fd() const { return fd_.get(); }

private:
  SignalRelay() = default;
  UniqueFd fd_;
  sigset_t previous_{};
  bool active_ = false;
};

// A service process that exists and runs its setup; `report` ends at its exec.
struct Spawned {
  pid_t pid = 0;
  UniqueFd report;           // read end of the child's close-on-exec report pipe
  UniqueFd seccomp_listener; // with ExecPlan::seccomp_listener, once the filter is loaded
};

// clone3(CLONE_INTO_CGROUP): the process is born in the cgroup, so everything attached to
// the cgroup applies from its first instruction. With ExecPlan::seccomp_listener, also
// CLONE_FILES: the listener the child creates lands in the supervisor's fd table, and stays
// there when execve gives the child a table of its own without it (close-on-exec).
Result<Spawned> spawn_into_cgroup(int cgroup_fd, const ExecPlan &plan);

// Blocks until the child has exec'd (nullopt) or reported the step that failed.
std::optional<ChildReport> await_exec(Spawned &spawned);

// Exit status as `run` reports it: the exit code, or 128 + the signal number.
int run_status(int wait_status);

class Supervisor {
public:
  Supervisor(const SignalRelay &relay, int cgroup_fd) : relay_(relay), cgroup_fd_(cgroup_fd) {}

  // Until `main` exits: relays signals to it and reaps every other child (ringfence is a
  // child subreaper, so orphans of the service come to it). Returns run_status().
  Result<int> wait_for(pid_t main);

  // Type=forking after a clean exit of the parent: until the cgroup is empty. `daemon`
  // (0 if unknown) gets the signals; when it exits, the rest of the cgroup is killed.
  // Returns the daemon's status, or 0 when it was unknown.
  Result<int> wait_until_empty(pid_t daemon);

  // While waiting, calls `tick` about every `interval` (draining the audit counters).
  void every(std::chrono::milliseconds interval, std::function<void()> tick) {
    interval_ = interval;
    tick_ = std::move(tick);
    next_tick_ = std::chrono::steady_clock::now() + interval;
  }

  // While waiting, calls `on_readable` when `fd` is readable (the audit events' ring buffer,
  // a seccomp listener), until it hangs up.
  void watch(int fd, std::function<void()> on_readable) {
    watched_.push_back({fd, std::move(on_readable)});
  }

private:
  int poll_timeout() const;
  // poll() on `fixed` and the watched fds; serves the watched ones that are ready.
  Status poll_with_watched(std::vector<pollfd> &fixed);
  void maybe_tick();
  Status handle_signals(pid_t target);
  void reap_children();
  void relay(int signal, int code, pid_t target) const;

  const SignalRelay &relay_;
  int cgroup_fd_;
  std::set<pid_t> tracked_;
  std::unordered_map<pid_t, int> exited_; // tracked pid → run_status()
  std::chrono::milliseconds interval_{0};
  std::function<void()> tick_;
  std::chrono::steady_clock::time_point next_tick_;
  struct Watched {
    int fd;
    std::function<void()> on_readable;
  };
  std::vector<Watched> watched_;
};

} // namespace rf::launch
