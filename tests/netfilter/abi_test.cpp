// bpf/sandbox_abi.h is read by the BPF programs and by C++; this pins every
// offset so a change to one side cannot silently shift the other.
#include "sandbox_abi.h"

#include <cstddef>
#include <gtest/gtest.h>
#include <type_traits>

namespace {

static_assert(std::is_standard_layout_v<ip4_rule_key> && std::is_trivially_copyable_v<ip4_rule_key>);
static_assert(std::is_standard_layout_v<ip6_rule_key> && std::is_trivially_copyable_v<ip6_rule_key>);
static_assert(std::is_standard_layout_v<sandbox_trace_event> &&
              std::is_trivially_copyable_v<sandbox_trace_event>);

// The kernel reads an LPM key as struct bpf_lpm_trie_key: prefixlen, then data.
static_assert(sizeof(ip4_rule_key) == 16);
static_assert(offsetof(ip4_rule_key, prefixlen) == 0);
static_assert(offsetof(ip4_rule_key, cgroup) == 4);
static_assert(offsetof(ip4_rule_key, addr) == 12);
static_assert(sizeof(ip6_rule_key) == 28);
static_assert(offsetof(ip6_rule_key, cgroup) == 4);
static_assert(offsetof(ip6_rule_key, addr) == 12);
static_assert(alignof(ip6_rule_key) == 4);

static_assert(sizeof(sandbox_policy) == 16);
static_assert(sizeof(sandbox_verdict_key) == 32);
static_assert(offsetof(sandbox_verdict_key, addr) == 12);
static_assert(offsetof(sandbox_policy, flags) == 0);
static_assert(offsetof(sandbox_policy, rules_cgroup) == 8);
static_assert(SANDBOX_SOCKET_KEY(1ull) == 0x8000000000000001ull);
static_assert(sizeof(sandbox_counters) == 144);
static_assert(offsetof(sandbox_counters, bytes) == 16);
static_assert(offsetof(sandbox_counters, packets) == 80);
static_assert(SANDBOX_INGRESS == 0 && SANDBOX_EGRESS == 1);
static_assert(sizeof(sandbox_verdict6) == 24);
static_assert(offsetof(sandbox_verdict6, verdict) == 4);
static_assert(offsetof(sandbox_verdict6, addr) == 8);
static_assert(sizeof(sandbox_packet_state) == 600);
static_assert(sizeof(sandbox_packet_state) % 8 == 0); // per-CPU values are 8-aligned
static_assert(offsetof(sandbox_packet_state, flags) == 0);
static_assert(offsetof(sandbox_packet_state, writer) == 4);
static_assert(offsetof(sandbox_packet_state, counters) == 8);
static_assert(offsetof(sandbox_packet_state, verdicts4) == 152);
static_assert(offsetof(sandbox_packet_state, verdicts6) == 408);
static_assert((SANDBOX_VERDICTS4 & (SANDBOX_VERDICTS4 - 1)) == 0 &&
              (SANDBOX_VERDICTS6 & (SANDBOX_VERDICTS6 - 1)) == 0);

static_assert(sizeof(sandbox_denial_key) == 40);
static_assert(offsetof(sandbox_denial_key, tgid) == 8);
static_assert(offsetof(sandbox_denial_key, kind) == 12);
static_assert(offsetof(sandbox_denial_key, port) == 16);
static_assert(offsetof(sandbox_denial_key, addr) == 20);
static_assert(sizeof(sandbox_denial) == 48);
static_assert(offsetof(sandbox_denial, tgid) == 8);
static_assert(offsetof(sandbox_denial, local_port) == 12);
static_assert(offsetof(sandbox_denial, comm) == 16);
static_assert(offsetof(sandbox_denial, local_addr) == 32);

static_assert(sizeof(sandbox_run_refusals) == 24);
static_assert(offsetof(sandbox_run_refusals, unattributed) == 8);
static_assert(offsetof(sandbox_run_refusals, process_keys) == 16);
static_assert(sizeof(sandbox_syscall_key) == 16);
static_assert(offsetof(sandbox_syscall_key, nr) == 8);
static_assert(sizeof(sandbox_syscall_rule) == 40);
static_assert(offsetof(sandbox_syscall_rule, pad0) == 4);
static_assert(offsetof(sandbox_syscall_rule, count) == 8);
static_assert(offsetof(sandbox_syscall_rule, tgid) == 16);
static_assert(offsetof(sandbox_syscall_rule, comm) == 24);

static_assert(sizeof(sandbox_trace_event) == 32);
static_assert(offsetof(sandbox_trace_event, type) == 0);
static_assert(offsetof(sandbox_trace_event, tgid) == 4);
static_assert(offsetof(sandbox_trace_event, nr) == 8);
static_assert(offsetof(sandbox_trace_event, comm) == 16);

TEST(SandboxAbi, AddressFieldsHoldIpv6AndCommHoldsTaskName) {
  sandbox_trace_event event{};
  EXPECT_EQ(sizeof(sandbox_denial_key{}.addr), 16u);
  EXPECT_EQ(sizeof event.comm, 16u);
  EXPECT_EQ(sizeof(ip6_rule_key{}.addr), 16u);
  EXPECT_EQ(sizeof(ip4_rule_key{}.addr), 4u);
  EXPECT_EQ(sizeof(ip4_rule_key{}.cgroup) * 8, unsigned{SANDBOX_CGROUP_BITS});
}

TEST(SandboxAbi, EventKindsAreDistinctAndNonZero) {
  // Zero stays free so that a zero-filled event is recognisably unset.
  constexpr int kinds[] = {SANDBOX_EVENT_EGRESS_DROP, SANDBOX_EVENT_INGRESS_DROP,
                           SANDBOX_EVENT_CONNECT_DENIED, SANDBOX_EVENT_SENDMSG_DENIED};
  for (std::size_t i = 0; i < std::size(kinds); ++i) {
    EXPECT_GT(kinds[i], 0);
    EXPECT_LE(kinds[i], 255) << "kind is stored in a __u8";
    for (std::size_t j = i + 1; j < std::size(kinds); ++j)
      EXPECT_NE(kinds[i], kinds[j]);
  }
}

} // namespace
