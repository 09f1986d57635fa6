// Invocation cgroups: where they live, how they are named and marked, and how the ones whose
// supervisor died are found and reaped (`ringfence gc`, and every `run`).
#pragma once

#include "cgroup/cgroup.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace rf::cgroup {

// The default parent below the hierarchy root when ringfence was not delegated a subtree.
inline constexpr std::string_view kDefaultParent = "/ringfence";

// Picks the parent of invocation cgroups, as a file-system path:
//  - `requested` (a cgroup path such as "/ringfence-test", from --cgroup-parent or
//    RINGFENCE_CGROUP_PARENT) when not empty;
//  - else the caller's own cgroup when it was delegated to it (systemd marks a
//    Delegate=yes cgroup with the xattr trusted.delegate or user.delegate = "1");
//  - else kDefaultParent.
// The directory is created when missing (with its missing ancestors).
struct Parent {
  std::string path;       // file-system path, e.g. /sys/fs/cgroup/unified/ringfence
  bool delegated = false; // the caller's own cgroup: it may hold the supervisor itself
};
Result<Parent> resolve_parent(const std::string &cgroup2_mount, const std::string &requested);

// In a delegated subtree the supervisor sits in the parent itself, and cgroup v2 lets a
// cgroup with processes pass no controller on to its children ("no internal processes").
// Moves the caller into the leaf "<parent>/supervisor" so that the parent can.
Status leave_parent(const Parent &parent);

// "<unit>-<invocation id>": what the cgroup of one run is called.
std::string invocation_cgroup_name(const std::string &unit, const std::string &invocation_id);
// Whether a directory name has that shape (a 32-hex-digit id after the last '-').
bool is_invocation_cgroup_name(std::string_view name);

// Who supervises a cgroup: pid plus start time, so a recycled pid is not mistaken for it.
struct SupervisorMark {
  pid_t pid = 0;
  std::uint64_t start_time = 0; // field 22 of /proc/PID/stat, clock ticks since boot

  static Result<SupervisorMark> of_process(pid_t pid);
  static Result<SupervisorMark> parse(std::string_view text); // "PID STARTTIME"
  std::string str() const;
  bool alive() const; // the same process still exists
};

// Sets trusted.invocation_id (as systemd does) and trusted.ringfence.supervisor.
Status mark_invocation(const CgroupDir &dir, const std::string &invocation_id,
                       const SupervisorMark &supervisor);

// The cgroup ids of the invocation cgroups under `parent` now.
Result<std::set<std::uint64_t>> invocation_ids(const std::string &parent);

// An invocation cgroup whose supervisor is alive, with what it advertises in an xattr.
struct LiveRun {
  std::string path;
  SupervisorMark supervisor;
  std::string advert; // the xattr's value; empty when it has none
};
Result<std::vector<LiveRun>> live_runs(const std::string &parent, const char *advert_xattr);

// The cgroup level of a cgroup directory below the mount: "/" is 0, "/ringfence" is 1.
int cgroup_level(const std::string &cgroup2_mount, const std::string &path);

// Kills and removes every invocation cgroup under `parent` whose supervisor is gone.
// A cgroup without a mark is only taken once it is older than a few seconds (a run may be
// between mkdir and marking it). Returns the names removed.
Result<std::vector<std::string>> reap_stale_invocations(const std::string &parent);

} // namespace rf::cgroup
