/*
 * cgroup IP filter for one sandboxed unit.
 *
 * Foundation only: both programs pass every packet. The allow/deny LPM tries
 * and the cgroup/connect{4,6} and cgroup/sendmsg{4,6} hooks come later
 * (a cgroup_skb drop does not make connect() fail; connect4 does).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "sandbox_abi.h"

/* cgroup_skb verdicts: 1 lets the packet through, 0 drops it. */
#define SKB_PASS 1

SEC("cgroup_skb/egress")
int sandbox_egress(struct __sk_buff *skb)
{
	return SKB_PASS;
}

SEC("cgroup_skb/ingress")
int sandbox_ingress(struct __sk_buff *skb)
{
	return SKB_PASS;
}

/* GPL-compatible, so GPL-only helpers (ring buffer, cgroup id) stay usable. */
char LICENSE[] SEC("license") = "GPL";
