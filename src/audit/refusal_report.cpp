#include "audit/refusal_report.hpp"

#include "sandbox_abi.h"

#include <map>

namespace rf::audit {

void RefusalReport::attribute(const std::vector<TracedConnect> &connects,
                              const std::vector<TracedSyscall> &syscalls) {
  for (const TracedConnect &c : connects) {
    int kind = c.sendmsg ? SANDBOX_EVENT_SENDMSG_DENIED : SANDBOX_EVENT_CONNECT_DENIED;
    ip_.attribute({kind, c.family, c.port, c.addr}, c.who);
  }
  for (const TracedSyscall &s : syscalls)
    syscalls_.attribute(s.nr, s.who);
}

std::vector<std::string> RefusalReport::records(const RunIdentity &run, const timespec &now,
                                                const std::vector<netfilter::Denial> &ip,
                                                std::uint64_t ip_unattributed,
                                                const std::vector<SyscallTotal> &syscalls) {
  std::vector<std::string> out;

  std::map<IpKey, const netfilter::Denial *> by_key;
  std::vector<Ledger<IpKey, IpMatch>::Total> ip_totals;
  for (const netfilter::Denial &d : ip) {
    IpKey key{d.kind, d.family, d.protocol, d.port, d.addr};
    by_key[key] = &d;
    ip_totals.push_back({key, {d.kind, d.family, d.port, d.addr}, d.count, {d.pid, d.comm}});
  }
  for (const auto &share : ip_.settle(ip_totals)) {
    const netfilter::Denial &d = *by_key.at(share.key);
    DenialFacts facts{d.kind, d.family, d.protocol, d.port, d.addr, share.count, d.local_port,
                      d.local_addr};
    out.push_back(denial_record(run, now, share.who.pid, share.who.comm, facts));
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
