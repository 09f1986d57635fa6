/*
 * Each run's event ring buffer, as the program of syscall_trace.bpf.c finds it: in its
 * map-in-map `run_events`, under the run's cgroup id (user space adds it). Included by BPF C
 * only.
 */
#ifndef RINGFENCE_RUN_EVENTS_BPF_H
#define RINGFENCE_RUN_EVENTS_BPF_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct run_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u64); /* the run's cgroup id */
	__uint(map_flags, BPF_F_NO_PREALLOC); /* no memory until used */
	__uint(max_entries, 65536);
	__array(values, struct run_ring);
} run_events SEC(".maps");

/*
 * Waking the supervisor for every event would cost a flood more than the refusals: it is
 * woken when a quarter of its ring buffer is used, and drains the rest every 250 ms.
 */
#define RUN_RING_WAKEUP_BYTES (64 * 1024)

static __always_inline __u64 wakeup_flags(void *ring)
{
	return bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= RUN_RING_WAKEUP_BYTES
		       ? BPF_RB_FORCE_WAKEUP
		       : BPF_RB_NO_WAKEUP;
}

#endif /* RINGFENCE_RUN_EVENTS_BPF_H */
