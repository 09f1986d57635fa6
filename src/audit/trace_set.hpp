// The audit trail's tracing program (bpf/syscall_trace.bpf.c), which counts the calls a run's
// seccomp filter answers with a kill (its other refusals come to the supervisor by user
// notification): one set for all runs below a cgroup parent, and each run's part.
//
// Nothing pins the set: every supervisor of a run below the parent holds its fds. The first
// one loads and attaches the programs; later ones take copies of the fds from a live one
// (pidfd_getfd), found through an xattr on its run's cgroup. So the programs live exactly as
// long as some run needs them, and a killed supervisor leaves nothing attached behind it.
#pragma once

#include "audit/audit_log.hpp"
#include "audit/ledger.hpp"
#include "audit/run_events.hpp"
#include "util/bpf_handles.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace rf::audit {

class TraceSet {
public:
  // Takes the set of a live run below `parent` or loads and attaches a new one. Call under
  // the parent's lock (cgroup::ParentLock): concurrent runs then never attach two sets.
  static Result<TraceSet> share_or_attach(const std::string &parent, int parent_fd);

  // Lets later runs below the parent find the set through this run's cgroup.
  Status advertise(int cgroup_fd) const;

  // Removes the entries of cgroups not in `live` (runs whose supervisor was killed). Call
  // under the parent's lock.
  void sweep(const std::set<std::uint64_t> &live) const;

  int run_events() const;
  int syscall_rules() const;

private:
  friend class RunTrace;
  static Result<TraceSet> attach();
  static Result<TraceSet> borrow(const std::string &advert);
  explicit TraceSet(std::vector<UniqueFd> fds) : fds_(std::move(fds)) {}
  std::vector<UniqueFd> fds_; // the link, then the maps (kFdCount in all)
};

// A system call the run's seccomp filter answers the same whatever its arguments: with an
// errno or a kill, or by letting it run and logging it.
struct SyscallRule {
  int nr = 0;
  SyscallAction action = SyscallAction::errno_return;
  int err = 0; // SyscallAction::errno_return
};

struct SyscallTotal {
  SyscallRule rule;
  std::uint64_t count = 0;
  Who last;
};

// One run's part in the set: the calls its filter kills in `syscall_rules` (removed on
// destruction) and its ring buffer in `run_events`.
class RunTrace {
public:
  // Call under the parent's lock. `killed`: the calls the filter kills whatever their
  // arguments (their action is SyscallAction::kill).
  static Result<RunTrace> enroll(TraceSet set, const std::string &parent_path, int parent_fd,
                                 std::uint64_t cgroup_id, const std::vector<SyscallRule> &rules,
                                 RunEvents &events);
  RunTrace(RunTrace &&) noexcept;
  RunTrace &operator=(RunTrace &&) = delete;
  ~RunTrace();

  // The counters of the run's rules (only those that counted something).
  std::vector<SyscallTotal> syscall_totals() const;

private:
  RunTrace(TraceSet set, std::string parent_path, UniqueFd parent, std::uint64_t cgroup_id,
           std::vector<SyscallRule> rules);
  bool hand_over(const std::string &parent_path) const;
  TraceSet set_;
  std::string parent_path_;
  UniqueFd parent_;
  std::uint64_t cgroup_id_;
  std::vector<SyscallRule> rules_;
  bool enrolled_ = false;
};

// The build of bpf/syscall_trace.bpf.c (a hash of the object): a set is shared only with
// runs of the same build.
std::uint64_t trace_build_id();

} // namespace rf::audit
