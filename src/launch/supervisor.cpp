#include "launch/supervisor.hpp"

#include "cgroup/cgroup.hpp"
#include "util/clone3.hpp"

#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <sys/mman.h>
#include <string_view>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>


namespace rf::launch {
namespace {

// What `kill -SIG ringfence` should do to the service. SIGCHLD is ours.
constexpr int kRelayedSignals[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};

// Signals the terminal sends to its whole foreground process group, which the service
// shares with ringfence: it already got them, relaying would deliver them twice.
bool sent_by_terminal(int signal, int code) {
  return code == SI_KERNEL && (signal == SIGINT || signal == SIGQUIT || signal == SIGWINCH ||
                               signal == SIGHUP);
}

} // namespace

Result<SignalRelay> SignalRelay::install() {
  SignalRelay relay;
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  for (int signal : kRelayedSignals)
    sigaddset(&mask, signal);
  if (::sigprocmask(SIG_BLOCK, &mask, &relay.previous_) < 0)
    return Error::from_errno("Failed to block signals");
  relay.active_ = true;
  relay.fd_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!relay.fd_)
    return Error::from_errno("Failed to create a signalfd");
  return relay;
}

SignalRelay::SignalRelay(SignalRelay &&other) noexcept
    : fd_(std::move(other.fd_)), previous_(other.previous_),
      active_(std::exchange(other.active_, false)) {}

SignalRelay::~SignalRelay() {
  if (active_)
    ::sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

namespace {

struct ChildStart {
  const ExecPlan *plan;
  ExecArrays *arrays;
  int report_fd;
};

[[noreturn]] void child_entry(void *start) {
  auto *s = static_cast<ChildStart *>(start);
  run_child(*s->plan, *s->arrays, s->report_fd);
}

// A stack for the child, which shares the supervisor's memory until it execs.
class ChildStack {
public:
  static constexpr std::size_t kSize = 256 * 1024;
  ChildStack()
      : base_(::mmap(nullptr, kSize, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {}
  ~ChildStack() {
    if (base_ != MAP_FAILED)
      ::munmap(base_, kSize);
  }
  ChildStack(const ChildStack &) = delete;
  ChildStack &operator=(const ChildStack &) = delete;
  bool ok() const { return base_ != MAP_FAILED; }
  std::uint64_t base() const { return reinterpret_cast<std::uint64_t>(base_); }

private:
  void *base_;
};

} // namespace

// CLONE_VM | CLONE_VFORK, as posix_spawn(): the child does not copy the supervisor's page
// tables, and the supervisor resumes when the child has exec'd or failed. That is most of
// the launch cost (docs/benchmarks.md).
Result<Spawned> spawn_into_cgroup(int cgroup_fd, const ExecPlan &plan) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
    return Error::from_errno("Failed to create the report pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  ChildStack stack;
  if (!stack.ok())
    return Error::from_errno("Failed to allocate the child's stack");
  ExecArrays arrays(plan);
  ChildStart start{&plan, &arrays, write_end.get()};

  clone_args args{};
  args.flags = CLONE_INTO_CGROUP | CLONE_VM | CLONE_VFORK | (plan.seccomp_listener ? CLONE_FILES : 0);
  args.exit_signal = SIGCHLD;
  args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  args.stack = stack.base();
  args.stack_size = ChildStack::kSize;
  long pid = clone3_with_entry(&args, child_entry, &start);
  if (pid < 0)
    return Error::from_errno("Failed to create the service process (clone3)", static_cast<int>(-pid));
  return Spawned{static_cast<pid_t>(pid), std::move(read_end), UniqueFd(arrays.seccomp_listener)};
}

std::optional<ChildReport> await_exec(Spawned &spawned) {
  ChildReport report{};
  ssize_t n;
  do
    n = ::read(spawned.report.get(), &report, sizeof report);
  while (n < 0 && errno == EINTR);
  spawned.report.reset();
  if (n == sizeof report)
    return report;
  return std::nullopt;
}

int run_status(int wait_status) {
  if (WIFEXITED(wait_status))
    return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status))
    return 128 + WTERMSIG(wait_status);
  return 125;
}

void Supervisor::reap_children() {
  int status;
  pid_t pid;
  while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0)
    if (tracked_.count(pid))
      exited_[pid] = run_status(status);
}

void Supervisor::relay(int signal, int code, pid_t target) const {
  if (sent_by_terminal(signal, code))
    return;
  if (target > 0) {
    ::kill(target, signal);
    return;
  }
  if (Result<std::vector<pid_t>> pids = cgroup::cgroup_processes(cgroup_fd_); pids)
    for (pid_t pid : *pids)
      ::kill(pid, signal);
}

Status Supervisor::handle_signals(pid_t target) {
  signalfd_siginfo info;
  for (;;) {
    ssize_t n = ::read(relay_.fd(), &info, sizeof info);
    if (n < 0 && errno == EAGAIN)
      return Ok{};
    if (n < 0 && errno == EINTR)
      continue;
    if (n != sizeof info)
      return Error::from_errno("Failed to read the signalfd");
    if (info.ssi_signo == SIGCHLD)
      reap_children();
    else
      relay(static_cast<int>(info.ssi_signo), info.ssi_code, target);
  }
}

int Supervisor::poll_timeout() const {
  if (!tick_)
    return -1;
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      next_tick_ - std::chrono::steady_clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

void Supervisor::maybe_tick() {
  if (!tick_ || std::chrono::steady_clock::now() < next_tick_)
    return;
  tick_();
  next_tick_ = std::chrono::steady_clock::now() + interval_;
}

Status Supervisor::poll_with_watched(std::vector<pollfd> &fds) {
  std::size_t fixed = fds.size();
  for (const Watched &w : watched_)
    fds.push_back({w.fd, POLLIN, 0});
  if (::poll(fds.data(), fds.size(), poll_timeout()) < 0 && errno != EINTR)
    return Error::from_errno("Failed to wait for the service");
  for (std::size_t i = watched_.size(); i-- > 0;) {
    short revents = fds[fixed + i].revents;
    if (revents & POLLIN)
      watched_[i].on_readable();
    else if (revents & (POLLHUP | POLLERR | POLLNVAL))
      watched_.erase(watched_.begin() + static_cast<std::ptrdiff_t>(i)); // nothing more will come
  }
  fds.resize(fixed);
  return Ok{};
}

Result<int> Supervisor::wait_for(pid_t main) {
  tracked_.insert(main);
  reap_children(); // it may have exited before we got here
  while (!exited_.count(main)) {
    std::vector<pollfd> fds{{relay_.fd(), POLLIN, 0}};
    RF_TRY(poll_with_watched(fds));
    RF_TRY(handle_signals(main));
    maybe_tick();
  }
  int status = exited_[main];
  exited_.erase(main);
  tracked_.erase(main);
  return status;
}

Result<int> Supervisor::wait_until_empty(pid_t daemon) {
  UniqueFd events(::openat(cgroup_fd_, "cgroup.events", O_RDONLY | O_CLOEXEC));
  if (!events)
    return Error::from_errno("Failed to open cgroup.events");
  if (daemon > 0)
    tracked_.insert(daemon);
  bool daemon_gone = false;
  for (;;) {
    reap_children();
    if (daemon > 0 && !daemon_gone && exited_.count(daemon)) {
      daemon_gone = true; // the service is over: its leftovers go too
      RF_TRY(cgroup::write_cgroup_file(cgroup_fd_, "cgroup.kill", "1"));
    }
    // Read through the polled fd: reading it is what re-arms POLLPRI.
    char text[256];
    ssize_t n = ::pread(events.get(), text, sizeof text - 1, 0);
    if (n < 0)
      return Error::from_errno("Failed to read cgroup.events");
    if (std::string_view(text, static_cast<std::size_t>(n)).find("populated 1") ==
        std::string_view::npos)
      break;
    // cgroup.events signals a change of "populated" with POLLPRI.
    std::vector<pollfd> fds{{relay_.fd(), POLLIN, 0}, {events.get(), POLLPRI, 0}};
    RF_TRY(poll_with_watched(fds));
    RF_TRY(handle_signals(daemon_gone ? 0 : daemon));
    maybe_tick();
  }
  reap_children();
  return daemon > 0 && exited_.count(daemon) ? exited_[daemon] : 0;
}

} // namespace rf::launch
