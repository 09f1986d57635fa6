/*
 * Counts the calls a run's seccomp filter refused. A raw tracepoint (no tracefs needed) on
 * sys_exit: a call refused by seccomp never fires sys_enter, but does fire sys_exit with
 * the filter's -errno. It runs for every system call on the machine while the run lives,
 * so the common case leaves at once: a result that is not an error, then a task outside
 * the run's cgroup.
 */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_helpers.h>

#include "sandbox_abi.h"

/* The run's cgroup id, set at load. */
const volatile __u64 run_cgroup = 0;

/* Per syscall number: the errno the filter answers whatever the arguments; 0 otherwise. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
	__uint(max_entries, SANDBOX_MAX_SYSCALL);
} refused SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__type(key, __u32);
	__type(value, struct sandbox_syscall_denial);
	__uint(max_entries, SANDBOX_MAX_SYSCALL);
} syscall_denials SEC(".maps");

SEC("raw_tp/sys_exit")
int rf_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	long ret = (long)ctx->args[1];
	if (ret >= 0 || ret < -4095)
		return 0;
	if (bpf_get_current_cgroup_id() != run_cgroup)
		return 0;
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	unsigned long nr = 0;
	if (bpf_probe_read_kernel(&nr, sizeof nr, &regs->orig_rax) < 0 || nr >= SANDBOX_MAX_SYSCALL)
		return 0;
	__u32 key = (__u32)nr;
	__u32 *err = bpf_map_lookup_elem(&refused, &key);
	if (!err || *err == 0 || (long)*err != -ret)
		return 0;
	struct sandbox_syscall_denial *d = bpf_map_lookup_elem(&syscall_denials, &key);
	if (!d)
		return 0;
	__sync_fetch_and_add(&d->count, 1);
	d->tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(d->comm, sizeof d->comm);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
