// Resource-control directives (MemoryMax=, TasksMax=, CPUQuota=, ...) as cgroup v2 files.
#pragma once

#include "policy/policy.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rf::cgroup {

struct CgroupSetting {
  std::string directive;  // "MemoryMax", for messages
  std::string controller; // "memory": must be enabled in the parent's subtree_control
  std::string file;       // "memory.max"
  std::string value;      // what is written, e.g. "1073741824" or "max"
};

// Facts of the machine the conversion needs (percentages are of these).
struct MachineTotals {
  std::uint64_t memory_bytes = 0; // physical RAM
  std::uint64_t tasks = 0;        // the kernel's limit on tasks (pid_max)
  static MachineTotals current();
};

// Pure conversion, systemd's units: sizes in bytes with base-1024 K/M/G/T/P/E suffixes,
// N% of the machine's total, "infinity" → "max"; CPUQuota=N% → "N*1000 100000".
Result<std::vector<CgroupSetting>> cgroup_settings(const ResourceLimits &limits,
                                                   const MachineTotals &totals);

// Enables the settings' controllers from the hierarchy root down to `parent`, then writes
// every setting into the invocation cgroup. Fails (never skips) when a controller is not
// available in cgroup2, e.g. bound to a v1 hierarchy on a hybrid layout.
Status apply_settings(const std::string &cgroup2_mount, const std::string &parent,
                      int invocation_fd, const std::vector<CgroupSetting> &settings);

} // namespace rf::cgroup
