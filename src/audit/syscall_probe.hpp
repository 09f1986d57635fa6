// The probe that counts the calls one run's seccomp filter refused (bpf/syscall_audit.bpf.c),
// and what the supervisor reads from it. One probe per run for now: each costs every system
// call on the machine a few nanoseconds while the run lives (docs/benchmarks.md).
#pragma once

#include "seccomp/filter.hpp"
#include "util/bpf_handles.hpp"
#include "util/result.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

struct syscall_audit; // generated skeleton

namespace rf::audit {

struct SyscallDenial {
  int nr = 0;
  int err = 0;             // the errno the filter answered
  std::uint64_t count = 0; // since the last report
  pid_t pid = 0;           // the last process refused
  std::string comm;
};

class SyscallProbe {
public:
  // Loads the probe for the run's cgroup and the calls its filter refuses, and attaches it
  // (a raw tracepoint: no tracefs needed).
  static Result<SyscallProbe> attach(std::uint64_t cgroup_id,
                                     const std::vector<seccomp::RefusedCall> &refused);
  SyscallProbe(SyscallProbe &&) noexcept;
  SyscallProbe &operator=(SyscallProbe &&) noexcept;
  ~SyscallProbe();

  // The refusals counted since the last call, per syscall.
  std::vector<SyscallDenial> new_denials();

private:
  SyscallProbe(SkelPtr<syscall_audit> skel, LinkPtr link, std::vector<int> errnos);
  SkelPtr<syscall_audit> skel_;
  LinkPtr link_;
  std::vector<int> errnos_;                   // by syscall number
  std::vector<std::uint64_t> reported_;       // by syscall number
};

} // namespace rf::audit
