/*
 * The one header shared by the BPF programs (C) and ringfence (C++).
 *
 * Both compilers must agree on every byte, so: fixed-width __u* types only,
 * explicit padding, no pointers, no bool, no enums as field types. The size
 * checks at the bottom run on both sides; tests/netfilter/abi_test.cpp pins
 * every offset.
 */
#ifndef RINGFENCE_SANDBOX_ABI_H
#define RINGFENCE_SANDBOX_ABI_H

#include <linux/types.h>

#define SANDBOX_COMM_LEN 16 /* TASK_COMM_LEN, not exported by UAPI */
#define SANDBOX_ADDR_LEN 16 /* room for an IPv6 address */

/*
 * LPM trie keys: the kernel reads them as struct bpf_lpm_trie_key, a __u32
 * prefix length followed by the address bytes in network order.
 */
struct ip4_lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct ip6_lpm_key {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Values for sandbox_deny_event.kind: which hook refused the traffic. */
enum sandbox_event_kind {
	SANDBOX_EVENT_EGRESS_DROP = 1,	  /* cgroup_skb/egress */
	SANDBOX_EVENT_INGRESS_DROP = 2,	  /* cgroup_skb/ingress */
	SANDBOX_EVENT_CONNECT_DENIED = 3, /* cgroup/connect{4,6} */
	SANDBOX_EVENT_SENDMSG_DENIED = 4, /* cgroup/sendmsg{4,6} */
};

/*
 * DRAFT: one denied connection attempt, as sent through the ring buffer.
 * The audit issue finalizes the fields; until then treat the layout as
 * unstable (but keep it explicit: padding is named, never implied).
 */
struct sandbox_deny_event {
	__u8 kind;     /* SANDBOX_EVENT_* */
	__u8 family;   /* AF_INET or AF_INET6 */
	__u8 protocol; /* IPPROTO_TCP, IPPROTO_UDP, ... */
	__u8 pad0;
	__u32 pid;   /* kernel pid: the thread id */
	__u32 tgid;  /* kernel tgid: what user space calls the pid */
	__u16 dport; /* host byte order */
	__u16 pad1;
	__u64 cgroup_id;	      /* bpf_get_current_cgroup_id(), the cgroup dir's inode */
	__u8 daddr[SANDBOX_ADDR_LEN]; /* network order; IPv4 uses the first 4 bytes, rest zero */
	__u8 comm[SANDBOX_COMM_LEN];  /* NUL-padded */
	__u64 count;		      /* denials folded into this event (rate limiting) */
};

#ifdef __cplusplus
#define SANDBOX_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SANDBOX_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

SANDBOX_ABI_ASSERT(sizeof(struct ip4_lpm_key) == 8, "ip4_lpm_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct ip6_lpm_key) == 20, "ip6_lpm_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_deny_event) == 64, "sandbox_deny_event layout changed");

#endif /* RINGFENCE_SANDBOX_ABI_H */
