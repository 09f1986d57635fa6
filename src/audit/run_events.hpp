// One run's event ring buffer: the tracing program that counts the seccomp filter's kills
// puts one event per kill in it, naming the process; the supervisor drains it as it becomes
// readable. The ring buffer is joined to the program set's `run_events` map under the run's
// cgroup id. (The IP filter needs none: its hooks run in the refused task and count each
// process's attempts under its own key.)
#pragma once

#include "audit/ledger.hpp"
#include "util/bpf_handles.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace rf::audit {

// A kill the tracing program saw.
struct TracedSyscall {
  int nr = 0;
  Who who;
};

class RunEvents {
public:
  static Result<RunEvents> create(std::uint64_t cgroup_id);
  RunEvents(RunEvents &&) noexcept;
  RunEvents &operator=(RunEvents &&) = delete;
  ~RunEvents(); // leaves every map it joined (in the background: see util/background.hpp)

  // Adds the ring buffer to a map-in-map `run_events` under the run's cgroup id; returns
  // once the programs see it.
  Status join(int run_events_map);

  int ring_fd() const { return ring_.get(); }
  int poll_fd() const; // readable when events wait
  void drain(std::vector<TracedSyscall> &syscalls);

private:
  RunEvents(std::uint64_t cgroup_id, UniqueFd ring);
  std::uint64_t cgroup_id_;
  UniqueFd ring_;
  std::vector<UniqueFd> joined_;
  struct Sink; // where drain() puts events; on the heap, so its address survives moves
  std::unique_ptr<Sink> sink_;
  RingBufferPtr consumer_;
};

} // namespace rf::audit
