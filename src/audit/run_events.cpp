#include "audit/run_events.hpp"

#include "sandbox_abi.h"
#include "util/background.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

namespace rf::audit {
namespace {

constexpr std::uint32_t kRingBytes = 256 * 1024;

std::string comm_text(const __u8 (&comm)[SANDBOX_COMM_LEN]) {
  const char *text = reinterpret_cast<const char *>(comm);
  return std::string(text, strnlen(text, sizeof comm));
}

} // namespace

struct RunEvents::Sink {
  std::vector<TracedSyscall> *syscalls = nullptr;

  // Called by libbpf for each event: no exception may leave it.
  static int on_event(void *self, void *data, std::size_t size) noexcept {
    auto &sink = *static_cast<Sink *>(self);
    if (size < sizeof(sandbox_trace_event) || !sink.syscalls)
      return 0;
    sandbox_trace_event e;
    std::memcpy(&e, data, sizeof e);
    try {
      if (e.type == SANDBOX_TRACE_SYSCALL_KILLED)
        sink.syscalls->push_back(
            {static_cast<int>(e.nr), Who{static_cast<pid_t>(e.tgid), comm_text(e.comm)}});
    } catch (...) {
      return -ENOMEM;
    }
    return 0;
  }
};

RunEvents::RunEvents(std::uint64_t cgroup_id, UniqueFd ring)
    : cgroup_id_(cgroup_id), ring_(std::move(ring)), sink_(std::make_unique<Sink>()) {}
RunEvents::RunEvents(RunEvents &&) noexcept = default;

Result<RunEvents> RunEvents::create(std::uint64_t cgroup_id) {
  UniqueFd ring(bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rf_run_events", 0, 0, kRingBytes, nullptr));
  if (!ring)
    return Error::from_errno("Failed to create the run's event ring buffer");
  RunEvents events(cgroup_id, std::move(ring));
  events.consumer_.reset(
      ring_buffer__new(events.ring_.get(), &Sink::on_event, events.sink_.get(), nullptr));
  if (!events.consumer_)
    return Error::from_errno("Failed to map the run's event ring buffer");
  return events;
}

// A map-in-map update waits for a grace period after the entry is in: a detached child makes
// it, and this waits only until the programs can see the entry.
Status RunEvents::join(int run_events_map) {
  UniqueFd map(::fcntl(run_events_map, F_DUPFD_CLOEXEC, 3));
  if (!map)
    return Error::from_errno("Failed to keep a run_events map");
  int ring_fd = ring_.get();
  Result<DetachedMapCall> call = DetachedMapCall::start(map.get(), &cgroup_id_, sizeof cgroup_id_,
                                                        &ring_fd, sizeof ring_fd, ring_fd);
  if (!call)
    return call.error().wrap("Failed to add the run's event ring buffer");
  // A child that never reports (killed from outside) must not hang the launch.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    std::uint32_t inner_id = 0;
    if (bpf_map_lookup_elem(map.get(), &cgroup_id_, &inner_id) == 0)
      break;
    if (std::chrono::steady_clock::now() > deadline)
      return Error::msg("Failed to add the run's event ring buffer: no answer from the child");
    std::optional<long> done = call->result();
    if (done && *done < 0)
      return Error::from_errno("Failed to add the run's event ring buffer", static_cast<int>(-*done));
    if (done && bpf_map_lookup_elem(map.get(), &cgroup_id_, &inner_id) < 0)
      return Error::msg("Failed to add the run's event ring buffer: the entry went away");
    ::sched_yield(); // the child is a few microseconds from the update: no timer sleep
  }
  joined_.push_back(std::move(map));
  return Ok{};
}

RunEvents::~RunEvents() {
  for (const UniqueFd &map : joined_) // the child has its own copy of the map's fd
    if (!DetachedMapCall::start(map.get(), &cgroup_id_, sizeof cgroup_id_, nullptr, 0))
      bpf_map_delete_elem(map.get(), &cgroup_id_); // then wait for the grace period here
}

int RunEvents::poll_fd() const { return ring_buffer__epoll_fd(consumer_.get()); }

void RunEvents::drain(std::vector<TracedSyscall> &syscalls) {
  sink_->syscalls = &syscalls;
  ring_buffer__consume(consumer_.get());
  sink_->syscalls = nullptr;
}

} // namespace rf::audit
