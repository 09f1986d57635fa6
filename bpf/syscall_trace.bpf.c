/*
 * The audit trail's tracing programs for the seccomp filter: they count the calls a run's
 * filter refuses or logs (seccomp does not count for itself) and report who made them.
 *
 * One set of these programs serves every run below a cgroup parent (a set per run would
 * make every system call on the machine pay once per run). A run takes part by adding its
 * rules to `syscall_rules` and a ring buffer to `run_events` under its cgroup id; a task
 * whose cgroup has none leaves at the first lookup.
 *
 *   - raw_tp/sys_exit: calls the run's filter refused with an errno (a refused call never
 *     fires sys_enter, but fires sys_exit with the filter's -errno), and calls it logs.
 *   - raw_tp/signal_generate: calls it answered with a kill (SIGSYS, SYS_SECCOMP).
 *
 * Raw tracepoints need no tracefs. The IP filter's refusals are counted and reported by the
 * IP filter's own programs (ip_filter.bpf.c), in the task that made the call.
 */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>

#include "sandbox_abi.h"

#define SIGSYS 31
#define SYS_SECCOMP 1

/* Runs with SystemCallLog= calls (written by user space): while there are none, successful
 * calls leave sys_exit at its first test. */
__u32 logging_runs = 0;

struct run_ring {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__type(key, __u64); /* the run's cgroup id */
	__uint(max_entries, 4096);
	__array(values, struct run_ring);
} run_events SEC(".maps");

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

/* Counts a call of the run's rules and reports it. */
static __always_inline void count_call(void *ring, struct sandbox_syscall_rule *rule, __u8 type,
				       __u32 nr, __s64 ret)
{
	__sync_fetch_and_add(&rule->count, 1);
	rule->tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(rule->comm, sizeof rule->comm);
	struct sandbox_trace_event *e = bpf_ringbuf_reserve(ring, sizeof *e, 0);
	if (!e)
		return; /* the count above is exact all the same */
	__builtin_memset(e, 0, sizeof *e);
	e->type = type;
	e->nr = nr;
	e->result = (__s32)ret;
	fill_task(e);
	bpf_ringbuf_submit(e, 0);
}

#define SYS_EXECVE 59
#define SYS_EXECVEAT 322

/* Only runs with SystemCallLog= calls have the entry (and see successes here at all). */
static __always_inline int mark_started(__u64 cgroup)
{
	struct sandbox_syscall_key key = {.cgroup = cgroup, .nr = SANDBOX_RUN_STARTED};
	struct sandbox_syscall_rule *state = bpf_map_lookup_elem(&syscall_rules, &key);
	if (state)
		state->count = 1;
	return 0;
}

static __always_inline int started(__u64 cgroup)
{
	struct sandbox_syscall_key key = {.cgroup = cgroup, .nr = SANDBOX_RUN_STARTED};
	struct sandbox_syscall_rule *state = bpf_map_lookup_elem(&syscall_rules, &key);
	return state && state->count;
}

/*
 * Runs on every system call's exit on the machine: the common case (success, or a task
 * outside every run) must leave after a test and at most one lookup.
 */
SEC("raw_tp/sys_exit")
int rf_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];
	if ((ret >= 0 && !logging_runs) || ret < -4095)
		return 0;
	struct sandbox_syscall_key key = {};
	void *ring = ring_of_current(&key.cgroup);
	if (!ring)
		return 0;
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	unsigned long nr = 0;
	if (bpf_probe_read_kernel(&nr, sizeof nr, &regs->orig_rax) < 0 || nr >= SANDBOX_MAX_SYSCALL)
		return 0;
	if (ret == 0 && (nr == SYS_EXECVE || nr == SYS_EXECVEAT))
		return mark_started(key.cgroup);
	key.nr = (__u32)nr;
	struct sandbox_syscall_rule *rule = bpf_map_lookup_elem(&syscall_rules, &key);
	if (!rule)
		return 0;
	if (rule->action == SANDBOX_SYSCALL_LOG && started(key.cgroup))
		count_call(ring, rule, SANDBOX_TRACE_SYSCALL_LOGGED, key.nr, ret);
	else if (rule->action == SANDBOX_SYSCALL_ERRNO && ret == -(long)rule->err)
		count_call(ring, rule, SANDBOX_TRACE_SYSCALL_REFUSED, key.nr, ret);
	return 0;
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
	if (bpf_probe_read_kernel(&info, sizeof info, (void *)ctx->args[1]) < 0 ||
	    info.code != SYS_SECCOMP || info.syscall < 0 || info.syscall >= SANDBOX_MAX_SYSCALL)
		return 0;
	struct sandbox_syscall_key key = {};
	void *ring = ring_of_current(&key.cgroup);
	if (!ring)
		return 0;
	key.nr = (__u32)info.syscall;
	struct sandbox_syscall_rule *rule = bpf_map_lookup_elem(&syscall_rules, &key);
	if (rule && rule->action == SANDBOX_SYSCALL_KILL)
		count_call(ring, rule, SANDBOX_TRACE_SYSCALL_KILLED, key.nr, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
