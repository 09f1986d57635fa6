#include "util/background.hpp"

#include "util/clone3.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <linux/bpf.h>
#include <new>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace rf {
namespace {

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

// What the detached child needs, at the bottom of its own stack mapping.
struct DetachedCall {
  bpf_attr attr;
  int close_after;
  alignas(8) unsigned char key[32];
  alignas(8) unsigned char value[32];
};

// Marks a delete in attr.flags (no BPF_* update flag has this value).
constexpr std::uint64_t kDelete = ~0ull;

// Raw system calls: the child shares the caller's memory, thread-local errno included.
long raw_syscall3(long nr, long a1, long a2, long a3) {
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3)
                   : "rcx", "r11", "memory");
  return ret;
}

[[noreturn]] void detached_entry(void *arg) {
  const auto *call = static_cast<const DetachedCall *>(arg);
  long cmd = call->attr.flags == kDelete ? BPF_MAP_DELETE_ELEM : BPF_MAP_UPDATE_ELEM;
  raw_syscall3(SYS_bpf, cmd, reinterpret_cast<long>(&call->attr), sizeof call->attr);
  if (call->close_after >= 0)
    raw_syscall3(SYS_close, call->close_after, 0, 0);
  for (;;)
    raw_syscall3(SYS_exit, 0, 0, 0);
}

} // namespace

Result<pid_t> detached_map_call(int map_fd, const void *key, unsigned key_size, const void *value,
                                unsigned value_size, bool close_map) {
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
  call->attr.map_fd = static_cast<std::uint32_t>(map_fd);
  call->attr.key = reinterpret_cast<std::uint64_t>(call->key);
  call->attr.value = reinterpret_cast<std::uint64_t>(call->value);
  call->attr.flags = value ? std::uint64_t{BPF_ANY} : kDelete;
  call->close_after = close_map ? map_fd : -1;
  clone_args args{};
  args.flags = CLONE_VM | CLONE_FILES;
  args.exit_signal = SIGCHLD;
  args.stack = reinterpret_cast<std::uint64_t>(stack) + sizeof(DetachedCall);
  args.stack_size = kStack - sizeof(DetachedCall);
  long pid = clone3_with_entry(&args, detached_entry, call);
  if (pid < 0) {
    ::munmap(stack, kStack);
    return Error::from_errno("Failed to start a child (clone3)", static_cast<int>(-pid));
  }
  return static_cast<pid_t>(pid);
}

Result<pid_t> in_background(std::vector<int> keep, const std::function<bool()> &work) {
  pid_t child = ::fork();
  if (child < 0)
    return Error::from_errno("fork");
  if (child == 0) {
    close_all_but(std::move(keep));
    ::_exit(work() ? 0 : 1);
  }
  return child;
}

} // namespace rf
