// IPAddressAllow=/IPAddressDeny=/IPAccounting=: the programs of bpf/ip_filter.bpf.c, attached
// once to the parent of the runs' cgroups and shared by every run below it (attaching six
// programs per run would cost more than the whole launch budget). A run writes its rules
// into the shared maps, keyed by its cgroup id, before its service exists; a cgroup below
// the parent without an entry is refused all traffic (fail closed).
#pragma once

#include "netfilter/ip_counters.hpp"
#include "policy/policy.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <optional>
#include <set>
#include <vector>

namespace rf::netfilter {

// The shared maps of one attached program set.
struct FilterMaps {
  UniqueFd allow4, deny4, allow6, deny6, policies, denials, run_refusals;
  UniqueFd packet_state; // per run and CPU: the packet programs' flags, counters, verdict cache
  UniqueFd verdicts;     // the verdict cache of runs with many rules (LRU)
};

// Refused attempts of one run to one remote address, port and protocol, of one kind: each
// process's connects and sends apart, dropped packets together.
struct Denial {
  int kind = 0;     // SANDBOX_EVENT_* (bpf/sandbox_abi.h)
  int family = 0;   // AF_INET or AF_INET6
  int protocol = 0; // IPPROTO_*; 0 when not known
  std::uint16_t port = 0;
  std::array<std::uint8_t, 16> addr{};
  std::uint64_t count = 0; // since the run started
  // The process the table counts these for: socket calls are counted per process (up to
  // SANDBOX_PROCESS_KEYS per run); 0 when counted per destination (dropped packets).
  pid_t process = 0;
  // The process to name: `process`, else the last one the entry saw (for a dropped packet,
  // the run's task it was sent in); 0 when none.
  pid_t pid = 0;
  std::string comm;
  std::uint16_t local_port = 0; // dropped packets: the local end of the last one
  std::array<std::uint8_t, 16> local_addr{};
};

class RunFilter;

// The program set on one parent cgroup.
class ParentFilter {
public:
  // This build's set attached to the parent, if there is one.
  static Result<std::optional<ParentFilter>> find(int parent_fd);

  // Finds this build's set on the parent or loads and attaches one. Sets of other builds
  // are detached when `runs_alive` is false, else refused: their maps hold no rules for
  // new runs, so they would refuse all of their traffic. Callers serialize with
  // cgroup::ParentLock, so that concurrent runs never attach two sets.
  static Result<ParentFilter> attach(int parent_fd, std::uint64_t parent_id, int run_level,
                                     bool runs_alive);

  // Writes one run's policy (flags, rules, counters) under its cgroup id: its `policies`
  // entry for the socket-call hooks, its `packet_state` for the packet programs.
  Result<RunFilter> install(std::uint64_t cgroup_id, const Policy &policy) const;

  // An entry that lets the cgroup pass everything, owned by no one: for runs that started
  // before the set was attached (`sweep` removes it when the run is gone).
  Status admit(std::uint64_t cgroup_id) const;

  // Removes the entries of cgroups not in `live` (runs whose supervisor was killed).
  Status sweep(const std::set<std::uint64_t> &live) const;

  const FilterMaps &maps() const { return *maps_; }

private:
  explicit ParentFilter(std::shared_ptr<FilterMaps> maps) : maps_(std::move(maps)) {}
  std::shared_ptr<FilterMaps> maps_;
};

// One run's entries in the shared maps, removed on destruction (best effort; `sweep`
// catches what a killed supervisor left).
class RunFilter {
public:
  RunFilter(RunFilter &&) noexcept = default;
  RunFilter &operator=(RunFilter &&) noexcept = delete;
  RunFilter(const RunFilter &) = delete;
  ~RunFilter();

  Result<IpCounters> counters() const;

  // The number of refusals since the run started (one lookup: read it to know whether
  // denial_totals() has anything new), and those whose destination found the table full.
  struct Refusals {
    std::uint64_t total = 0, unattributed = 0;
  };
  Refusals refusals() const;
  // The refusals counted since the run started, one entry per destination (the kernel
  // counts every refusal). Reads the whole table, which all runs below the parent share.
  std::vector<Denial> denial_totals() const;

private:
  friend class ParentFilter;
  RunFilter(std::shared_ptr<FilterMaps> maps, std::uint64_t cgroup_id, const Policy &policy);
  std::shared_ptr<FilterMaps> maps_;
  std::uint64_t cgroup_id_;
  std::vector<IpPrefix> allow_, deny_;
};


// The prefixes the kernel needs for the same verdicts as systemd's rules (an allow match
// passes; else a deny match drops; else it passes), with fewer lookups per packet: a deny
// prefix inside an allow prefix never applies, and an allow prefix that meets no remaining
// deny prefix never changes a verdict. Very long lists are kept whole (the comparison is
// pairwise).
struct KernelRules {
  std::vector<IpPrefix> allow, deny;
};
KernelRules kernel_rules(const std::vector<IpPrefix> &allow, const std::vector<IpPrefix> &deny);

// The SANDBOX_POLICY_* bits that rules give: which tries hold rules (the programs skip
// lookups in empty ones), and whether to cache verdicts per destination.
std::uint32_t rule_flags(const KernelRules &rules);

// The SANDBOX_POLICY_* bits of a policy's entry: filter, accounting, and which tries hold
// its rules (the programs skip lookups in empty ones).
std::uint32_t policy_flags(const Policy &policy);

// The object's hash: what identifies this build's program set on a parent.
std::uint64_t build_id();

} // namespace rf::netfilter
