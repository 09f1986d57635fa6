/*
 * IPAddressAllow= / IPAddressDeny= / IPAccounting= for every run under one cgroup parent.
 *
 * One set of programs is attached (BPF_F_ALLOW_MULTI) to the parent of the runs' cgroups
 * and serves them all: a run only writes its rules, keyed by its cgroup id, into the
 * shared maps. Two layers read the same rules:
 *   - cgroup/connect4|6 and cgroup/sendmsg4|6 refuse at the socket call, so connect() and
 *     an unconnected UDP send fail at once with EPERM (a dropped SYN would hang connect()
 *     for minutes in retransmissions);
 *   - cgroup_skb/egress|ingress see every packet, raw and ICMP sockets included, and
 *     count traffic.
 * systemd's semantics: an allow match passes; else a deny match drops; else it passes.
 */
#include <linux/if_ether.h>
#include <linux/in.h>

#include "ip_rules.bpf.h"

#define PASS 1
#define REFUSE 0

/*
 * The parent of the runs' cgroups (its id), and the level of the runs' cgroups as user
 * space sees it. In a cgroup namespace that level is relative to the namespace's root,
 * while the kernel's ancestor helpers count from the real root: the level is only a hint,
 * checked against the parent's id, and searched for when it is wrong.
 */
const volatile __u64 parent_cgroup = 0;
const volatile __u32 run_level = 1;
#define MAX_CGROUP_LEVEL 32
/*
 * Which build of these programs a set attached to a parent is (a hash of this object, set
 * at load): user space reuses a set only if it matches. It lives in .rodata, which the
 * programs use, so the kernel keeps it and lists it among their maps.
 */
const volatile __u64 build_id = 0;

/*
 * What the packet programs need of a run, in one lookup (a hash lookup costs more than all
 * the rest of a packet's work): its flags, its counters and its verdict cache, per CPU.
 * The hooks on socket calls and the passed-in sockets' filter read `policies` instead.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__type(key, __u64);
	__type(value, struct sandbox_packet_state);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 65536);
} packet_state SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sandbox_denial_key);
	__type(value, struct sandbox_denial);
	__uint(max_entries, 65536);
} denials SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, __u64);
	__type(value, struct sandbox_run_refusals);
	__uint(max_entries, 65536);
} run_refusals SEC(".maps");

/* The local end of a dropped packet (the hooks on socket calls leave it zero). */
struct local_end {
	__u32 addr[4];
	__u16 port;
};

static __always_inline void record_denial(__u64 cgroup, __u8 kind, __u8 family, __u8 protocol,
					  __u16 port, const __u32 *addr, int words, int in_task,
					  const struct local_end *local)
{
	struct sandbox_run_refusals *run = bpf_map_lookup_elem(&run_refusals, &cgroup);
	__u32 tgid = in_task ? bpf_get_current_pid_tgid() >> 32 : 0;
	/* A socket call is made by the task it runs in; a packet may be sent from a timer. */
	int socket_call = kind == SANDBOX_EVENT_CONNECT_DENIED || kind == SANDBOX_EVENT_SENDMSG_DENIED;
	int by_process = socket_call && run && run->process_keys < SANDBOX_PROCESS_KEYS;
	struct sandbox_denial_key key = {.cgroup = cgroup, .tgid = by_process ? tgid : 0,
					 .kind = kind, .family = family, .protocol = protocol,
					 .port = port};
	if (words == 1)
		__builtin_memcpy(key.addr, addr, 4);
	else
		__builtin_memcpy(key.addr, addr, 16);
	struct sandbox_denial *d = bpf_map_lookup_elem(&denials, &key);
	if (!d) {
		struct sandbox_denial fresh = {};
		/* EEXIST: a racing CPU made it */
		if (bpf_map_update_elem(&denials, &key, &fresh, BPF_NOEXIST) == 0 && by_process && run)
			__sync_fetch_and_add(&run->process_keys, 1);
		d = bpf_map_lookup_elem(&denials, &key);
	}
	if (!d) {
		if (run) {
			__sync_fetch_and_add(&run->unattributed, 1);
			__sync_fetch_and_add(&run->total, 1); /* last: see sandbox_run_refusals */
		}
		return;
	}
	__sync_fetch_and_add(&d->count, 1);
	if (run)
		__sync_fetch_and_add(&run->total, 1); /* last: see sandbox_run_refusals */
	if (in_task) {
		d->tgid = tgid;
		bpf_get_current_comm(d->comm, sizeof d->comm);
	}
	if (local) {
		d->local_port = local->port;
		if (words == 1)
			__builtin_memcpy(d->local_addr, local->addr, 4);
		else
			__builtin_memcpy(d->local_addr, local->addr, 16);
	}
}

/*
 * The run a socket belongs to: its ancestor one level below the parent. 0 means the socket
 * is in the parent itself (a supervisor in a delegated subtree), which is not a run.
 */
static __always_inline __u64 run_of_task(void)
{
	if (bpf_get_current_ancestor_cgroup_id(run_level - 1) == parent_cgroup)
		return bpf_get_current_ancestor_cgroup_id(run_level);
	for (int level = 0; level < MAX_CGROUP_LEVEL; level++)
		if (bpf_get_current_ancestor_cgroup_id(level) == parent_cgroup)
			return bpf_get_current_ancestor_cgroup_id(level + 1);
	return 0;
}

static __always_inline __u64 run_of_skb(struct __sk_buff *skb)
{
	if (bpf_skb_ancestor_cgroup_id(skb, run_level - 1) == parent_cgroup)
		return bpf_skb_ancestor_cgroup_id(skb, run_level);
	for (int level = 0; level < MAX_CGROUP_LEVEL; level++)
		if (bpf_skb_ancestor_cgroup_id(skb, level) == parent_cgroup)
			return bpf_skb_ancestor_cgroup_id(skb, level + 1);
	return 0;
}

static __always_inline const struct sandbox_policy *policy_of(__u64 cgroup)
{
	return bpf_map_lookup_elem(&policies, &cgroup);
}

/* ---- socket calls: refuse with EPERM ---- */

/* connect() or an unconnected send: refused with EPERM, and counted. */
static __always_inline int sock_addr_verdict(struct bpf_sock_addr *ctx, __u8 kind, int v6)
{
	/* Fast path: a task of the run's own cgroup; else its run among the ancestors. */
	__u64 cgroup = bpf_get_current_cgroup_id();
	const struct sandbox_policy *policy = policy_of(cgroup);
	if (!policy) {
		cgroup = run_of_task();
		if (!cgroup)
			return PASS;
		policy = policy_of(cgroup);
	}
	__u32 addr[4] = {};
	int words = 1;
	__u8 family = 2 /* AF_INET */;
	if (v6) {
		addr[0] = ctx->user_ip6[0];
		addr[1] = ctx->user_ip6[1];
		addr[2] = ctx->user_ip6[2];
		addr[3] = ctx->user_ip6[3];
		if (is_v4_mapped(addr))
			addr[0] = addr[3]; /* reported as the IPv4 address it maps to */
		else {
			words = 4;
			family = 10 /* AF_INET6 */;
		}
	} else {
		addr[0] = ctx->user_ip4;
	}
	if (!policy)
		return REFUSE; /* not a run ringfence set up: refused, but no one to tell */
	if (!(policy->flags & SANDBOX_POLICY_FILTER))
		return PASS;
	if ((words == 1 ? check4(cgroup, addr[0], policy->flags)
			: check6(cgroup, addr, policy->flags)) == ALLOWED)
		return PASS;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	record_denial(cgroup, kind, family, (__u8)ctx->protocol, port, addr, words, 1, 0);
	return REFUSE;
}

SEC("cgroup/connect4")
int rf_connect4(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, SANDBOX_EVENT_CONNECT_DENIED, 0);
}

SEC("cgroup/sendmsg4")
int rf_sendmsg4(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, SANDBOX_EVENT_SENDMSG_DENIED, 0);
}

SEC("cgroup/connect6")
int rf_connect6(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, SANDBOX_EVENT_CONNECT_DENIED, 1);
}

SEC("cgroup/sendmsg6")
int rf_sendmsg6(struct bpf_sock_addr *ctx)
{
	return sock_addr_verdict(ctx, SANDBOX_EVENT_SENDMSG_DENIED, 1);
}

/* ---- packets: drop, and count ---- */

static __always_inline int protocol_slot(__u8 protocol)
{
	switch (protocol) {
	case IPPROTO_TCP: return SANDBOX_SLOT_TCP;
	case IPPROTO_UDP: return SANDBOX_SLOT_UDP;
	case IPPROTO_ICMP:
	case 58 /* IPPROTO_ICMPV6 */: return SANDBOX_SLOT_ICMP;
	default: return SANDBOX_SLOT_OTHER;
	}
}

/* Atomic adds: a packet on the same CPU can interrupt another (softirq), and counts are exact. */
static __always_inline void count(struct sandbox_counters *c, int egress, int passed, __u32 len,
				  __u8 protocol)
{
	int direction = egress ? SANDBOX_EGRESS : SANDBOX_INGRESS;
	if (!passed) {
		__sync_fetch_and_add(&c->dropped_packets[direction], 1);
		return;
	}
	int slot = protocol_slot(protocol);
	__sync_fetch_and_add(&c->bytes[direction][slot], len);
	__sync_fetch_and_add(&c->packets[direction][slot], 1);
}

#define READ_ONCE(x) (*(volatile typeof(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile typeof(x) *)&(x) = (v))

/* A slot of the verdict cache (sandbox_abi.h): the top bits of a multiplicative hash. */
static __always_inline __u32 cache_slot(__u32 word, __u32 bits)
{
	return (__u32)(word * 2654435761u) >> (32 - bits) & ((1u << bits) - 1);
}

/* The verdict on an IPv4 address: this CPU's cache of the run, else the rules (whose
 * verdict it then keeps). An entry is one 64-bit word (address, valid bit, verdict bit):
 * on the 64-bit JITs ringfence runs on (x86-64, arm64) a nested program on this CPU reads
 * it whole or not at all. */
static __always_inline enum verdict verdict4(struct sandbox_packet_state *run, __u64 cgroup,
					     __u32 addr, __u32 flags)
{
	if (!(flags & SANDBOX_POLICY_DENY4))
		return ALLOWED;
	__u64 *slot = &run->verdicts4[cache_slot(addr, SANDBOX_VERDICTS4_BITS)];
	__u64 tag = (__u64)addr << 32 | 1;
	__u64 seen = READ_ONCE(*slot);
	if ((seen & ~2ull) == tag)
		return seen & 2 ? DENIED : ALLOWED;
	enum verdict verdict = check4(cgroup, addr, flags);
	WRITE_ONCE(*slot, tag | (verdict == DENIED ? 2 : 0));
	return verdict;
}

static __always_inline enum verdict verdict6(struct sandbox_packet_state *run, __u64 cgroup,
					     const __u32 addr[4], __u32 flags)
{
	if (is_v4_mapped(addr))
		return verdict4(run, cgroup, addr[3], flags); /* a v4 deny is not bypassed */
	if (!(flags & SANDBOX_POLICY_DENY6))
		return ALLOWED;
	__u32 folded = addr[0] ^ addr[1] ^ addr[2] ^ addr[3];
	struct sandbox_verdict6 *e = &run->verdicts6[cache_slot(folded, SANDBOX_VERDICTS6_BITS)];
	__u32 seq = READ_ONCE(e->seq);
	if (seq && !(seq & 1) && READ_ONCE(e->addr[0]) == addr[0] &&
	    READ_ONCE(e->addr[1]) == addr[1] && READ_ONCE(e->addr[2]) == addr[2] &&
	    READ_ONCE(e->addr[3]) == addr[3]) {
		__u32 refused = READ_ONCE(e->verdict);
		if (READ_ONCE(e->seq) == seq)
			return refused ? DENIED : ALLOWED;
	}
	enum verdict verdict = check6(cgroup, addr, flags);
	__sync_fetch_and_add(&run->writer, 1);
	if (READ_ONCE(run->writer) == 1) { /* else another writer is half way: no caching */
		seq = READ_ONCE(e->seq);
		WRITE_ONCE(e->seq, seq + 1);
		WRITE_ONCE(e->addr[0], addr[0]);
		WRITE_ONCE(e->addr[1], addr[1]);
		WRITE_ONCE(e->addr[2], addr[2]);
		WRITE_ONCE(e->addr[3], addr[3]);
		WRITE_ONCE(e->verdict, verdict == DENIED);
		WRITE_ONCE(e->seq, seq + 2);
	}
	__sync_fetch_and_add(&run->writer, -1);
	return verdict;
}

/* Copies `len` bytes at `offset` of the packet: in place when they are in the linear part
 * (a helper call costs more than the rest of the work), else with bpf_skb_load_bytes. */
static __always_inline int load(struct __sk_buff *skb, __u32 offset, void *to, __u32 len)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (offset > 60)
		return -1;
	if (data + offset + len <= end) {
		__builtin_memcpy(to, data + offset, len);
		return 0;
	}
	return bpf_skb_load_bytes(skb, offset, to, len);
}

/* The ports of a TCP or UDP packet, host order (only read for refused packets). */
static __always_inline void read_ports(struct __sk_buff *skb, __u8 family, __u8 protocol,
				       __u16 ports[2])
{
	__u32 header_len = 40;
	if (protocol != IPPROTO_TCP && protocol != IPPROTO_UDP)
		return;
	if (family == 2) {
		__u8 version_ihl;
		if (load(skb, 0, &version_ihl, 1) < 0)
			return;
		header_len = (version_ihl & 0xf) * 4;
	}
	if (load(skb, header_len, ports, 2 * sizeof(__u16)) < 0)
		return;
	ports[0] = bpf_ntohs(ports[0]);
	ports[1] = bpf_ntohs(ports[1]);
}

/* Records a dropped packet: the remote end is the key, the local end is kept with it. */
static __always_inline void record_drop(struct __sk_buff *skb, __u64 cgroup, int egress,
					__u8 family, __u8 protocol, const __u32 *remote, int words)
{
	struct local_end local = {};
	__u16 ports[2] = {}; /* source, destination */
	read_ports(skb, family, protocol, ports);
	local.port = ports[egress ? 0 : 1];
	/* The local address: the source on egress, the destination on ingress. */
	if (family == 2)
		load(skb, egress ? 12 : 16, local.addr, 4);
	else
		load(skb, egress ? 8 : 24, local.addr, 16);
	/*
	 * A packet sent in a task of the run names it; one sent from a timer or softirq (a
	 * retransmission, say) runs in whatever task was current, which names no one.
	 */
	int sent_by_run = egress && bpf_get_current_cgroup_id() == cgroup;
	record_denial(cgroup, egress ? SANDBOX_EVENT_EGRESS_DROP : SANDBOX_EVENT_INGRESS_DROP,
		      family, protocol, ports[egress ? 1 : 0], remote, words, sent_by_run, &local);
}

/*
 * The protocol byte and the remote address (`words` 32-bit words) of the IP header at the
 * start of the packet (cgroup_skb: skb->data is the network header), whose fixed part is
 * `header_len` bytes: read in place when it is in the linear part (the common case), else
 * copied out.
 */
static __always_inline int read_header(struct __sk_buff *skb, __u32 header_len, __u32 protocol_at,
				       __u32 addr_at, int words, __u8 *protocol, __u32 *addr)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	if (data + header_len <= end) {
		/* Word loads at offsets that are multiples of 4: skb->data's own alignment is not
		 * known, which x86-64 and arm64 do not mind. */
		const __u32 *from = data + addr_at;
		*protocol = *((__u8 *)data + protocol_at);
		addr[0] = from[0];
		if (words == 4) {
			addr[1] = from[1];
			addr[2] = from[2];
			addr[3] = from[3];
		}
		return 0;
	}
	if (bpf_skb_load_bytes(skb, protocol_at, protocol, 1) < 0)
		return -1;
	return words == 1 ? bpf_skb_load_bytes(skb, addr_at, addr, 4)
			  : bpf_skb_load_bytes(skb, addr_at, addr, 16);
}

/* Checks the packet's remote address: the destination on egress, the source on ingress. */
static __always_inline int filter_packet(struct __sk_buff *skb, int egress)
{
	/* Fast path: a socket of the run's own cgroup (the service's, unless it made
	 * sub-cgroups). Otherwise the run is found among the socket cgroup's ancestors. */
	__u64 cgroup = bpf_skb_cgroup_id(skb);
	struct sandbox_packet_state *run = bpf_map_lookup_elem(&packet_state, &cgroup);
	if (!run) {
		cgroup = run_of_skb(skb);
		if (!cgroup)
			return PASS;
		run = bpf_map_lookup_elem(&packet_state, &cgroup);
		if (!run)
			return REFUSE;
	}
	__u32 flags = run->flags;
	if (!(flags & (SANDBOX_POLICY_FILTER | SANDBOX_POLICY_ACCOUNTING)))
		return PASS; /* a run without IP directives */

	enum verdict verdict = ALLOWED;
	__u8 protocol = 0, family = 0;
	__u32 addr[4] = {};
	int words = 1;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		if (read_header(skb, 20, 9, egress ? 16 : 12, 1, &protocol, addr) < 0)
			return REFUSE;
		family = 2;
		if (flags & SANDBOX_POLICY_FILTER)
			verdict = verdict4(run, cgroup, addr[0], flags);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		if (read_header(skb, 40, 6, egress ? 24 : 8, 4, &protocol, addr) < 0)
			return REFUSE;
		family = 10;
		words = 4;
		if (flags & SANDBOX_POLICY_FILTER)
			verdict = verdict6(run, cgroup, addr, flags);
	}
	int passed = verdict == ALLOWED;
	if (flags & SANDBOX_POLICY_ACCOUNTING)
		count(&run->counters, egress, passed, skb->len, protocol);
	if (!passed)
		record_drop(skb, cgroup, egress, family, protocol, addr, words);
	return passed ? PASS : REFUSE;
}

SEC("cgroup_skb/egress")
int rf_egress(struct __sk_buff *skb)
{
	return filter_packet(skb, 1);
}

SEC("cgroup_skb/ingress")
int rf_ingress(struct __sk_buff *skb)
{
	return filter_packet(skb, 0);
}

/* GPL-compatible, so GPL-only helpers (ring buffer, cgroup id) stay usable. */
char LICENSE[] SEC("license") = "GPL";
