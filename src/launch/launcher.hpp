// `ringfence run`, after parsing: one invocation of a validated policy, from the cgroup to
// the teardown. The supervisor (this process) owns every kernel object of the invocation.
#pragma once

#include "policy/policy.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace rf::launch {

struct LaunchOptions {
  std::string cgroup_parent;                // --cgroup-parent; empty: the default
  std::string audit_log;                    // resolved path of the JSON-lines log
  std::vector<std::string> protected_paths; // unit files: read-only for the service
  std::string stop_at;                      // RINGFENCE_STOP_AT, a test hook (see man page)
  bool verbose = false;
};

struct RunOutcome {
  int status = 125;  // the contract's exit status of `run`
  std::string error; // one line "what failed: why" when ringfence itself failed
};

RunOutcome launch(const Policy &policy, const LaunchOptions &options);

// Reaps invocation cgroups under the parent whose supervisor is gone (`ringfence gc`).
// Returns their names.
Result<std::vector<std::string>> collect_garbage(const std::string &cgroup_parent);

// The bounding set the service gets: CapabilityBoundingSet= if set, else everything but
// kSandboxEscapeCapabilities when a filter or limit is configured, else everything.
std::uint64_t service_bounding_set(const Policy &policy, int last_cap);

} // namespace rf::launch
