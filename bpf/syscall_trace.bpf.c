/*
 * The audit trail's tracing program for the seccomp filter's kills: a kill sends SIGSYS
 * (si_code SYS_SECCOMP, naming the call) to the caller, and raw_tp/signal_generate sees it.
 * It counts the kills of the calls a run's filter kills whatever their arguments, and
 * reports who made them.
 *
 * Why not more: the calls the filter refuses with an errno, or logs, reach the supervisor
 * through seccomp's user notification, which costs nothing to other processes. A probe on
 * sys_exit (a refused call fires it with the filter's -errno) would put every system call
 * of the machine on the slow path while it is attached (measured: docs/benchmarks.md).
 * signal_generate only fires when a signal is generated.
 *
 * One program serves every run below a cgroup parent. A run takes part by adding its rules
 * to `syscall_rules` and a ring buffer to `run_events` under its cgroup id; a task whose
 * cgroup has none leaves at the first lookup. Raw tracepoints need no tracefs.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "run_events.bpf.h"
#include "sandbox_abi.h"

#define SIGSYS 31
#define AUDIT_ARCH_X86_64 0xC000003Eu
#define SYS_SECCOMP 1


struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__type(key, struct sandbox_syscall_key);
	__type(value, struct sandbox_syscall_rule);
	__uint(max_entries, 1 << 16); /* an allow list refuses ~400 calls: ~160 such runs */
	__uint(map_flags, BPF_F_NO_PREALLOC);
} syscall_rules SEC(".maps");

static __always_inline void *ring_of_current(__u64 *cgroup)
{
	*cgroup = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&run_events, cgroup);
}

static __always_inline void fill_task(struct sandbox_trace_event *e)
{
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof e->comm);
}

/* Counts a kill of the run's rules and reports it. */
static __always_inline void count_kill(void *ring, struct sandbox_syscall_rule *rule, __u32 nr)
{
	__sync_fetch_and_add(&rule->count, 1);
	rule->tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(rule->comm, sizeof rule->comm);
	struct sandbox_trace_event *e = bpf_ringbuf_reserve(ring, sizeof *e, 0);
	if (!e)
		return; /* the count above is exact all the same */
	__builtin_memset(e, 0, sizeof *e);
	e->type = SANDBOX_TRACE_SYSCALL_KILLED;
	e->nr = nr;
	fill_task(e);
	bpf_ringbuf_submit(e, wakeup_flags(ring));
}

/* The part of struct kernel_siginfo read here: SIGSYS's fields. */
struct siginfo_sys {
	__s32 signo;
	__s32 err;
	__s32 code;
	__s32 pad;
	__u64 call_addr;
	__s32 syscall;
	__u32 arch;
};

/* A seccomp kill sends SIGSYS (SYS_SECCOMP) to the calling task, naming the call. */
SEC("raw_tp/signal_generate")
int rf_signal_generate(struct bpf_raw_tracepoint_args *ctx)
{
	if ((int)ctx->args[0] != SIGSYS)
		return 0;
	struct siginfo_sys info = {};
	/* Native calls only: another ABI's numbers name other calls (x32's have bit 30). */
	if (bpf_probe_read_kernel(&info, sizeof info, (void *)ctx->args[1]) < 0 ||
	    info.code != SYS_SECCOMP || info.arch != AUDIT_ARCH_X86_64 || info.syscall < 0 ||
	    info.syscall >= SANDBOX_MAX_SYSCALL)
		return 0;
	struct sandbox_syscall_key key = {};
	void *ring = ring_of_current(&key.cgroup);
	if (!ring)
		return 0;
	key.nr = (__u32)info.syscall;
	struct sandbox_syscall_rule *rule = bpf_map_lookup_elem(&syscall_rules, &key);
	if (rule && rule->action == SANDBOX_SYSCALL_KILL)
		count_kill(ring, rule, key.nr);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
