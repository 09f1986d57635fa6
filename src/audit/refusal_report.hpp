// One run's refusals as audit records: the kernel's counters (exact: the IP filter's table,
// the seccomp rules' counts) merged with the tracing programs' events (who) by Ledgers.
#pragma once

#include "audit/audit_log.hpp"
#include "audit/ledger.hpp"
#include "audit/trace_set.hpp"
#include "netfilter/ip_filter.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <string>
#include <tuple>
#include <vector>

namespace rf::audit {

class RefusalReport {
public:
  // Notes who made traced attempts; they are matched to counts by the next records().
  void attribute(const std::vector<TracedConnect> &connects,
                 const std::vector<TracedSyscall> &syscalls);

  // Records for what the counters grew by since the last call. `ip` and `syscalls` are
  // totals since the run started; `ip_unattributed` counts refusals whose destination
  // found the IP filter's table full.
  std::vector<std::string> records(const RunIdentity &run, const timespec &now,
                                   const std::vector<netfilter::Denial> &ip,
                                   std::uint64_t ip_unattributed,
                                   const std::vector<SyscallTotal> &syscalls);

private:
  using Address = std::array<std::uint8_t, 16>;
  using IpKey = std::tuple<int, int, int, std::uint16_t, Address>; // kind family protocol port addr
  using IpMatch = std::tuple<int, int, std::uint16_t, Address>;    // kind family port addr
  Ledger<IpKey, IpMatch> ip_;
  Ledger<int, int> syscalls_; // by syscall number
  std::uint64_t ip_unattributed_reported_ = 0;
};

} // namespace rf::audit
