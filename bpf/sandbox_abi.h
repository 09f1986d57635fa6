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
 * The IP rules of every run under one cgroup parent live in shared LPM tries, keyed by
 * the run's cgroup id and then the address: the kernel reads a key as struct
 * bpf_lpm_trie_key, a __u32 prefix length (in bits, counting the 64 bits of the cgroup
 * id) followed by the data bytes. The cgroup id is always matched whole, so its byte
 * order does not matter; the address is in network order.
 */
#define SANDBOX_CGROUP_BITS 64

struct ip4_rule_key {
	__u32 prefixlen; /* 64 + the IPv4 prefix length */
	__u8 cgroup[8];	 /* the run's cgroup id, host order */
	__u8 addr[4];
};

struct ip6_rule_key {
	__u32 prefixlen; /* 64 + the IPv6 prefix length */
	__u8 cgroup[8];
	__u8 addr[16];
};

/* sandbox_policy.flags */
#define SANDBOX_POLICY_FILTER 1u     /* the rule tries apply (else: pass everything) */
#define SANDBOX_POLICY_ACCOUNTING 2u /* count traffic in sandbox_counters */
/* Which tries hold rules of the run: a lookup in an empty one is skipped. */
#define SANDBOX_POLICY_ALLOW4 4u
#define SANDBOX_POLICY_DENY4 8u
#define SANDBOX_POLICY_ALLOW6 16u
#define SANDBOX_POLICY_DENY6 32u
/* Many rules: remember each destination's verdict in the shared LRU too, behind the packet
 * programs' per-CPU tables (a hash lookup beats a deep LPM walk). */
#define SANDBOX_POLICY_CACHE 64u

/*
 * One entry per run, keyed by its cgroup id, written before the service exists, for the
 * hooks on socket calls (the packet programs read the same flags in sandbox_packet_state).
 * A socket in a run's cgroup without an entry is refused everything (fail closed).
 *
 * A socket passed in to a run (socket activation) was created outside its cgroup, so the
 * cgroup programs never see it; it carries a locked socket filter instead, whose entry is
 * keyed by SANDBOX_SOCKET_KEY(socket cookie) and names the run whose rules apply. Between
 * runs that entry stays, with flags 0: the socket is back with its owner, and passes.
 */
struct sandbox_policy {
	__u32 flags;
	__u32 pad;
	__u64 rules_cgroup; /* socket entries: the run whose rules apply; else unused */
};

#define SANDBOX_SOCKET_KEY(cookie) ((cookie) | (1ull << 63))

/* The verdict cache's key: a run's rules never change while it lives, and cgroup ids are
 * never reused, so an entry stays right until it ages out. */
struct sandbox_verdict_key {
	__u64 cgroup;
	__u32 family; /* 4 or 6 */
	__u32 addr[4]; /* network order; IPv4 in addr[0] */
};

/* Per-protocol slots of sandbox_counters. */
enum sandbox_protocol_slot {
	SANDBOX_SLOT_TCP = 0,
	SANDBOX_SLOT_UDP = 1,
	SANDBOX_SLOT_ICMP = 2, /* ICMP and ICMPv6 */
	SANDBOX_SLOT_OTHER = 3,
	SANDBOX_SLOTS = 4,
};

/* IPAccounting=: per run, per CPU; user space sums the CPUs, and the protocols into the
 * per-direction totals (two atomic adds per packet rather than four). */
enum sandbox_direction { SANDBOX_INGRESS = 0, SANDBOX_EGRESS = 1 };

struct sandbox_counters {
	__u64 dropped_packets[2];		/* by sandbox_direction */
	__u64 bytes[2][SANDBOX_SLOTS];	/* allowed traffic, by direction and protocol */
	__u64 packets[2][SANDBOX_SLOTS];
};

/*
 * The packet programs' verdict cache of one run on one CPU, direct-mapped by address. A
 * run's rules never change while it lives, and the cache is the run's own (its entry is
 * created zero with the run and removed with it), so an entry stays right until another
 * address takes its slot. Another packet on the same CPU can interrupt a writer (softirq,
 * or preemption: the programs only disable migration), so an entry must never be read
 * half written:
 *   - IPv4: one 64-bit word, written and read whole: address << 32 | verdict << 1 | 1
 *     (0: empty);
 *   - IPv6: a sequence count, even when the entry is whole; a writer first takes
 *     `writer` (an atomic add that must leave it at 1) and skips caching when another
 *     writer holds it; a reader takes the entry only if the count was even and the same
 *     before and after it read the address and verdict.
 */
#define SANDBOX_VERDICTS4_BITS 5 /* 32 slots */
#define SANDBOX_VERDICTS6_BITS 3 /* 8 slots */
#define SANDBOX_VERDICTS4 (1 << SANDBOX_VERDICTS4_BITS)
#define SANDBOX_VERDICTS6 (1 << SANDBOX_VERDICTS6_BITS)

struct sandbox_verdict6 {
	__u32 seq;
	__u32 verdict; /* 1: refused */
	__u32 addr[4]; /* network order */
};

/*
 * The packet programs' per-run state (`packet_state`, a per-CPU hash keyed by the run's
 * cgroup id): everything a packet needs in one lookup. Written, zero but for `flags`, for
 * every run before its service exists (a cgroup below the parent without an entry is
 * refused every packet); `flags` are the run's `policies` flags.
 */
struct sandbox_packet_state {
	__u32 flags;  /* SANDBOX_POLICY_* */
	__u32 writer; /* held by a writer of verdicts6 (see above) */
	struct sandbox_counters counters;
	__u64 verdicts4[SANDBOX_VERDICTS4];
	struct sandbox_verdict6 verdicts6[SANDBOX_VERDICTS6];
};

/* sandbox_denial_key.kind: which hook refused the traffic. */
enum sandbox_event_kind {
	SANDBOX_EVENT_EGRESS_DROP = 1,	  /* cgroup_skb/egress */
	SANDBOX_EVENT_INGRESS_DROP = 2,	  /* cgroup_skb/ingress */
	SANDBOX_EVENT_CONNECT_DENIED = 3, /* cgroup/connect{4,6} */
	SANDBOX_EVENT_SENDMSG_DENIED = 4, /* cgroup/sendmsg{4,6} */
};

/*
 * Refused attempts, counted by the enforcing programs themselves (so every refusal counts,
 * io_uring's and each datagram of a sendmmsg included), aggregated per run × process ×
 * kind × remote address × port × protocol: the hooks on socket calls run in the calling
 * task, so each process's attempts are counted, and named, apart. The supervisor reads the
 * counts while the run lives (never deleting, so no increment can land in a removed entry)
 * and removes its entries at the end. When the table is full, the refusal is added to the
 * run's `unattributed` count in `run_refusals`: the sum stays exact, only the destination
 * and the process are unknown.
 */
struct sandbox_denial_key {
	__u64 cgroup;  /* the run */
	__u32 tgid;    /* the process (socket calls); 0 for dropped packets, which have none */
	__u8 kind;     /* SANDBOX_EVENT_* */
	__u8 family;   /* AF_INET or AF_INET6; a v4-mapped address counts as AF_INET */
	__u8 protocol; /* IPPROTO_TCP, IPPROTO_UDP, ...; 0 when not known */
	__u8 pad0;
	__u16 port; /* the remote port, host order; 0 when there is none */
	__u16 pad1;
	__u8 addr[SANDBOX_ADDR_LEN]; /* the remote address, network order */
	__u32 pad2;
};

struct sandbox_denial {
	__u64 count;
	__u32 tgid; /* the last process: for dropped packets a task of the run the last one
		     * was sent in, 0 when none (inbound, or sent from a timer or softirq) */
	__u16 local_port; /* dropped packets: the local port of the last one (host order) */
	__u16 pad;
	__u8 comm[SANDBOX_COMM_LEN];
	__u8 local_addr[SANDBOX_ADDR_LEN]; /* dropped packets: the local address of the last one */
};

/* Per run, written (zero) by user space before the service exists. `total` grows with every
 * refusal, so that an idle supervisor reads one entry rather than the whole denials table.
 * It is added to after the refusal's own count: a supervisor that reads `total` and then the
 * table never misses a count that `total` includes. */
struct sandbox_run_refusals {
	__u64 total;
	__u64 unattributed;  /* refusals that found the denials table full */
	__u64 process_keys;  /* `denials` entries of this run keyed by a process */
};

/*
 * A run keys at most this many `denials` entries by process: past it, its refused socket
 * calls count per destination only (tgid 0 in the key; the entry names the last process),
 * so that a service starting a process per attempt cannot fill the table every run under
 * the parent shares.
 */
#define SANDBOX_PROCESS_KEYS 4096

/*
 * The seccomp filter's kills in the audit trail (bpf/syscall_trace.bpf.c). One program
 * serves every run below a cgroup parent; a run takes part by adding its ring buffer to
 * `run_events` under its cgroup id, and the calls its filter kills to `syscall_rules`.
 */

/* sandbox_syscall_rule.action */
#define SANDBOX_SYSCALL_KILL 2 /* the process is killed (SIGSYS) */

#define SANDBOX_MAX_SYSCALL 512

struct sandbox_syscall_key {
	__u64 cgroup;
	__u32 nr;
	__u32 pad;
};

/* Written by user space; the programs count into it in place (atomic adds). */
struct sandbox_syscall_rule {
	__u32 action; /* SANDBOX_SYSCALL_* */
	__u32 pad0;
	__u64 count;  /* calls killed */
	__u32 tgid;   /* the last process */
	__u32 pad;
	__u8 comm[SANDBOX_COMM_LEN];
};

/* sandbox_trace_event.type */
#define SANDBOX_TRACE_SYSCALL_KILLED 4 /* a call the seccomp filter answered with a kill */

/*
 * One kill, through the run's ring buffer: who was killed. The count is the table's
 * (sandbox_syscall_rule), so an event lost to a full ring buffer loses only the name.
 */
struct sandbox_trace_event {
	__u8 type; /* SANDBOX_TRACE_* */
	__u8 pad0[3];
	__u32 tgid; /* what user space calls the pid */
	__u32 nr;   /* the system call */
	__u32 pad1;
	__u8 comm[SANDBOX_COMM_LEN];
};

#ifdef __cplusplus
#define SANDBOX_ABI_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define SANDBOX_ABI_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

SANDBOX_ABI_ASSERT(sizeof(struct ip4_rule_key) == 16, "ip4_rule_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct ip6_rule_key) == 28, "ip6_rule_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_policy) == 16, "sandbox_policy layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_verdict_key) == 32,
		   "sandbox_verdict_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_counters) == 144, "sandbox_counters layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_verdict6) == 24, "sandbox_verdict6 layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_packet_state) == 152 + 8 * SANDBOX_VERDICTS4 +
						      24 * SANDBOX_VERDICTS6,
		   "sandbox_packet_state layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_denial_key) == 40, "sandbox_denial_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_denial) == 48, "sandbox_denial layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_run_refusals) == 24,
		   "sandbox_run_refusals layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_syscall_key) == 16, "sandbox_syscall_key layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_syscall_rule) == 40, "sandbox_syscall_rule layout changed");
SANDBOX_ABI_ASSERT(sizeof(struct sandbox_trace_event) == 32, "sandbox_trace_event layout changed");

#endif /* RINGFENCE_SANDBOX_ABI_H */
