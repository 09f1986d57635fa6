/*
 * The IP rules shared by the programs of ip_filter.bpf.c and inherited_socket.bpf.c: the
 * same maps (user space hands the second object the first one's map fds) and the same
 * lookups. Included by BPF C only.
 */
#ifndef RINGFENCE_IP_RULES_BPF_H
#define RINGFENCE_IP_RULES_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sandbox_abi.h"

/* Sized for the sum over all concurrent runs; no memory is used until entries exist. */
#define RULES_MAX (1u << 20)

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ip4_rule_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RULES_MAX);
} allow4 SEC(".maps"), deny4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__type(key, struct ip6_rule_key);
	__type(value, __u8);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, RULES_MAX);
} allow6 SEC(".maps"), deny6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct sandbox_policy);
	__uint(max_entries, 65536);
} policies SEC(".maps");

/* Verdicts of runs with SANDBOX_POLICY_CACHE, per destination (least recently used go). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__type(key, struct sandbox_verdict_key);
	__type(value, __u8);
	__uint(max_entries, 16384);
} verdicts SEC(".maps");

enum verdict { ALLOWED, DENIED };

static __always_inline void set_cgroup(__u8 out[8], __u64 cgroup)
{
	__builtin_memcpy(out, &cgroup, sizeof cgroup);
}

/* Without deny rules for the family everything passes; without allow rules only the deny
 * trie decides. `flags` are the run's SANDBOX_POLICY_* bits. */
static __always_inline enum verdict lookup4(__u64 cgroup, __u32 addr, __u32 flags)
{
	struct ip4_rule_key key = {.prefixlen = SANDBOX_CGROUP_BITS + 32};

	set_cgroup(key.cgroup, cgroup);
	__builtin_memcpy(key.addr, &addr, sizeof addr);
	if ((flags & SANDBOX_POLICY_ALLOW4) && bpf_map_lookup_elem(&allow4, &key))
		return ALLOWED;
	return bpf_map_lookup_elem(&deny4, &key) ? DENIED : ALLOWED;
}

static __always_inline enum verdict check4(__u64 cgroup, __u32 addr, __u32 flags)
{
	if (!(flags & SANDBOX_POLICY_DENY4))
		return ALLOWED;
	if (!(flags & SANDBOX_POLICY_CACHE))
		return lookup4(cgroup, addr, flags);
	struct sandbox_verdict_key vk = {.cgroup = cgroup, .family = 4, .addr = {addr}};
	__u8 *cached = bpf_map_lookup_elem(&verdicts, &vk);
	if (cached)
		return *cached ? DENIED : ALLOWED;
	enum verdict v = lookup4(cgroup, addr, flags);
	__u8 value = v == DENIED;
	bpf_map_update_elem(&verdicts, &vk, &value, BPF_ANY);
	return v;
}

/* ::ffff:a.b.c.d, what a dual-stack AF_INET6 socket uses for IPv4 peers. */
static __always_inline int is_v4_mapped(const __u32 addr[4])
{
	return addr[0] == 0 && addr[1] == 0 && addr[2] == bpf_htonl(0xffff);
}

static __always_inline enum verdict check6(__u64 cgroup, const __u32 addr[4], __u32 flags)
{
	if (is_v4_mapped(addr))
		return check4(cgroup, addr[3], flags); /* a v4 deny is not bypassed through AF_INET6 */
	if (!(flags & SANDBOX_POLICY_DENY6))
		return ALLOWED;
	struct sandbox_verdict_key vk = {.cgroup = cgroup, .family = 6};
	if (flags & SANDBOX_POLICY_CACHE) {
		__builtin_memcpy(vk.addr, addr, 16);
		__u8 *cached = bpf_map_lookup_elem(&verdicts, &vk);
		if (cached)
			return *cached ? DENIED : ALLOWED;
	}
	struct ip6_rule_key key = {.prefixlen = SANDBOX_CGROUP_BITS + 128};

	set_cgroup(key.cgroup, cgroup);
	__builtin_memcpy(key.addr, addr, 16);
	enum verdict v = DENIED;
	if ((flags & SANDBOX_POLICY_ALLOW6) && bpf_map_lookup_elem(&allow6, &key))
		v = ALLOWED;
	else if (!bpf_map_lookup_elem(&deny6, &key))
		v = ALLOWED;
	if (flags & SANDBOX_POLICY_CACHE) {
		__u8 value = v == DENIED;
		bpf_map_update_elem(&verdicts, &vk, &value, BPF_ANY);
	}
	return v;
}

#endif /* RINGFENCE_IP_RULES_BPF_H */
