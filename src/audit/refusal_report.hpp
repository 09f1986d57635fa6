// One run's refusals as audit records, from the kernel's counters (exact). The IP filter's
// table counts each process's attempts apart; the seccomp filter's kills are counted per
// system call and merged with the tracing program's events (who) by a Ledger.
#pragma once

#include "audit/audit_log.hpp"
#include "audit/ledger.hpp"
#include "audit/trace_set.hpp"
#include "netfilter/ip_filter.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace rf::audit {

class RefusalReport {
public:
  // Notes who made traced calls; they are matched to counts by the next records().
  void attribute(const std::vector<TracedSyscall> &syscalls);

  // Records for what the counters grew by since the last call. `ip` and `syscalls` are
  // totals since the run started; `ip_unattributed` counts refusals whose destination
  // found the IP filter's table full.
  std::vector<std::string> records(const RunIdentity &run, const timespec &now,
                                   const std::vector<netfilter::Denial> &ip,
                                   std::uint64_t ip_unattributed,
                                   const std::vector<SyscallTotal> &syscalls);

private:
  using Address = std::array<std::uint8_t, 16>;
  // kind family protocol port addr process: one table entry (Denial::process)
  using IpKey = std::tuple<int, int, int, std::uint16_t, Address, pid_t>;
  std::map<IpKey, std::uint64_t> ip_reported_; // each table entry's count in records so far
  Ledger<int, int> syscalls_; // by syscall number
  std::uint64_t ip_unattributed_reported_ = 0;
};

} // namespace rf::audit
