#include "util/background.hpp"

#include "util/clone3.hpp"

#include <algorithm>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <linux/bpf.h>
#include <new>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rf {
namespace {

constexpr long kPending = LONG_MIN;

void close_all_but(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned first = 0;
  for (int fd : keep) {
    if (fd < static_cast<int>(first))
      continue;
    if (fd > static_cast<int>(first))
      ::close_range(first, static_cast<unsigned>(fd) - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(first, ~0u, 0);
}

// Blocks every signal while alive, so that a child started meanwhile inherits the mask.
class AllSignalsBlocked {
public:
  AllSignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    ::sigprocmask(SIG_BLOCK, &all, &previous_);
  }
  ~AllSignalsBlocked() { ::sigprocmask(SIG_SETMASK, &previous_, nullptr); }
  AllSignalsBlocked(const AllSignalsBlocked &) = delete;
  AllSignalsBlocked &operator=(const AllSignalsBlocked &) = delete;

private:
  sigset_t previous_;
};

// What the detached child needs, at the bottom of its own stack mapping.
struct DetachedCall {
  bpf_attr attr;
  long cmd;
  int keep[2]; // the fds it keeps open (-1: none)
  long result; // kPending until the child has made the call
  alignas(8) unsigned char key[32];
  alignas(8) unsigned char value[32];
};

// Raw system calls: the child shares the caller's memory, thread-local errno included.
long raw_syscall3(long nr, long a1, long a2, long a3) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
                   : "rcx", "r11", "memory");
  return ret;
}

// Closes [from, to] with a raw close_range when the range is not empty.
void raw_close_range(long from, long to) {
  if (from <= to)
    raw_syscall3(SYS_close_range, from, to, 0);
}

[[noreturn]] void detached_entry(void *arg) {
  auto *call = static_cast<DetachedCall *>(arg);
  // Its own copy of the fd table: keep only the call's fds (keep[0] < keep[1] or -1).
  long low = call->keep[0], high = call->keep[1];
  if (low < 0) {
    raw_close_range(0, high - 1);
    raw_close_range(high + 1, INT_MAX);
  } else {
    raw_close_range(0, low - 1);
    raw_close_range(low + 1, high - 1);
    raw_close_range(high + 1, INT_MAX);
  }
  long ret = raw_syscall3(SYS_bpf, call->cmd, reinterpret_cast<long>(&call->attr),
                          sizeof call->attr);
  __atomic_store_n(&call->result, ret, __ATOMIC_RELEASE);
  for (;;)
    raw_syscall3(SYS_exit, 0, 0, 0);
}

} // namespace

Result<DetachedMapCall> DetachedMapCall::start(int map_fd, const void *key, unsigned key_size,
                                               const void *value, unsigned value_size,
                                               int value_fd) {
  constexpr std::size_t kStack = 16 * 1024;
  if (key_size > sizeof DetachedCall::key || value_size > sizeof DetachedCall::value)
    return Error::from_errno("detached bpf call", E2BIG);
  void *stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED)
    return Error::from_errno("Failed to allocate a stack");
  auto *call = new (stack) DetachedCall{};
  std::memcpy(call->key, key, key_size);
  if (value)
    std::memcpy(call->value, value, value_size);
  call->cmd = value ? BPF_MAP_UPDATE_ELEM : BPF_MAP_DELETE_ELEM;
  call->attr.map_fd = static_cast<std::uint32_t>(map_fd);
  call->attr.key = reinterpret_cast<std::uint64_t>(call->key);
  call->attr.value = reinterpret_cast<std::uint64_t>(call->value);
  call->attr.flags = BPF_ANY;
  call->keep[0] = std::min(map_fd, value_fd);
  call->keep[1] = std::max(map_fd, value_fd);
  call->result = kPending;
  clone_args args{};
  args.flags = CLONE_VM;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<std::uint64_t>(stack) + sizeof(DetachedCall);
  args.stack_size = kStack - sizeof(DetachedCall);
  long pid;
  {
    AllSignalsBlocked blocked;
    pid = clone3_with_entry(&args, detached_entry, call);
  }
  if (pid < 0) {
    ::munmap(stack, kStack);
    return Error::from_errno("Failed to start a child (clone3)", static_cast<int>(-pid));
  }
  return DetachedMapCall(&call->result);
}

std::optional<long> DetachedMapCall::result() const {
  long ret = __atomic_load_n(result_, __ATOMIC_ACQUIRE);
  return ret == kPending ? std::nullopt : std::optional<long>(ret);
}

Result<pid_t> in_background(std::vector<int> keep, const std::function<bool()> &work) {
  pid_t child;
  {
    AllSignalsBlocked blocked; // the child keeps the mask
    child = ::fork();
  }
  if (child < 0)
    return Error::from_errno("fork");
  if (child == 0) {
    close_all_but(std::move(keep));
    // 0-2 on /dev/null: a later open must not get a standard stream's number.
    for (int fd = 0; fd < 3; ++fd)
      if (::fcntl(fd, F_GETFD) < 0 && ::open("/dev/null", O_RDWR) != fd)
        ::_exit(1);
    bool done = false;
    try {
      done = work();
    } catch (...) {
    }
    ::_exit(done ? 0 : 1);
  }
  return child;
}

} // namespace rf
