// IPAccounting= totals of one run, as the audit trail reports them.
#pragma once

#include <array>
#include <cstdint>

namespace rf::netfilter {

// Sums over CPUs. Bytes are skb->len at the cgroup hook: IP header included.
struct IpCounters {
  std::uint64_t ingress_bytes = 0, ingress_packets = 0;
  std::uint64_t egress_bytes = 0, egress_packets = 0;
  std::uint64_t dropped_ingress_packets = 0, dropped_egress_packets = 0;
  // Allowed traffic per protocol, both directions, in this order: tcp, udp, icmp, other.
  std::array<std::uint64_t, 4> protocol_bytes{}, protocol_packets{};
};

} // namespace rf::netfilter
