/*
 * The IP rules for a socket passed in to a run (socket activation, an inherited fd). Such a
 * socket was created outside the run's cgroup, so the cgroup programs never see its
 * traffic. This socket filter, attached with SO_ATTACH_BPF and locked with SO_LOCK_FILTER,
 * checks the source of every inbound packet; on a listening socket that covers the
 * connection requests, and accepted connections inherit the filter.
 *
 * It uses the maps of the program set on the run's cgroup parent (user space hands over
 * their fds), and finds the run through the socket's cookie, so that the locked filter
 * keeps serving the next run that gets the same socket.
 */
#include <linux/if_ether.h>

#include "ip_rules.bpf.h"

#define DROP 0

SEC("socket")
int rf_inherited(struct __sk_buff *skb)
{
	__u64 key = SANDBOX_SOCKET_KEY(bpf_get_socket_cookie(skb));
	const struct sandbox_policy *entry = bpf_map_lookup_elem(&policies, &key);
	if (!entry || !(entry->flags & SANDBOX_POLICY_FILTER))
		return skb->len; /* not in a run now: the socket is its owner's */

	enum verdict verdict = ALLOWED;
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		__u32 addr;
		if (bpf_skb_load_bytes_relative(skb, 12, &addr, 4, BPF_HDR_START_NET) < 0)
			return DROP;
		verdict = check4(entry->rules_cgroup, addr, entry->flags);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		__u32 addr[4];
		if (bpf_skb_load_bytes_relative(skb, 8, addr, 16, BPF_HDR_START_NET) < 0)
			return DROP;
		verdict = check6(entry->rules_cgroup, addr, entry->flags);
	}
	return verdict == ALLOWED ? skb->len : DROP;
}

char LICENSE[] SEC("license") = "GPL";
