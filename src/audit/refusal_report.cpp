#include "audit/refusal_report.hpp"

#include <map>

namespace rf::audit {

void RefusalReport::attribute(const std::vector<TracedSyscall> &syscalls) {
  for (const TracedSyscall &s : syscalls)
    syscalls_.attribute(s.nr, s.who);
}

std::vector<std::string> RefusalReport::records(const RunIdentity &run, const timespec &now,
                                                const std::vector<netfilter::Denial> &ip,
                                                std::uint64_t ip_unattributed,
                                                const std::vector<SyscallTotal> &syscalls) {
  std::vector<std::string> out;

  for (const netfilter::Denial &d : ip) {
    std::uint64_t &reported =
        ip_reported_[{d.kind, d.family, d.protocol, d.port, d.addr, d.process}];
    if (d.count <= reported)
      continue;
    DenialFacts facts{d.kind, d.family, d.protocol, d.port, d.addr, d.count - reported,
                      d.local_port, d.local_addr};
    reported = d.count;
    out.push_back(denial_record(run, now, d.pid, d.comm, facts));
  }
  if (ip_unattributed > ip_unattributed_reported_) {
    DenialFacts facts;
    facts.count = ip_unattributed - ip_unattributed_reported_;
    ip_unattributed_reported_ = ip_unattributed;
    out.push_back(denial_record(run, now, 0, "", facts));
  }

  std::map<int, SyscallRule> rules;
  std::vector<Ledger<int, int>::Total> syscall_totals;
  for (const SyscallTotal &t : syscalls) {
    rules[t.rule.nr] = t.rule;
    syscall_totals.push_back({t.rule.nr, t.rule.nr, t.count, t.last});
  }
  for (const auto &share : syscalls_.settle(syscall_totals)) {
    const SyscallRule &rule = rules.at(share.key);
    out.push_back(syscall_record(run, now, share.who.pid, share.who.comm,
                                 {rule.nr, rule.action, rule.err, share.count}));
  }
  return out;
}

} // namespace rf::audit
