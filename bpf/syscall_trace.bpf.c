/*
 * The audit trail's tracing programs: who made the attempts the sandbox refused.
 *
 * One set of these programs serves every run below a cgroup parent (a set per run would
 * make every system call on the machine pay once per run). A run takes part by adding a
 * ring buffer to `run_events` under its cgroup id; a task whose cgroup has none leaves at
 * the first lookup.
 *
 *   - syscalls:sys_enter_/sys_exit_{connect,sendto,sendmsg,sendmmsg}, correlated through
 *     `pending` (keyed by thread): the address the caller passed, read at entry, and the
 *     result at exit. An EPERM is reported; user space keeps it only where the IP filter's
 *     own counters show a refusal of that address (EPERM has other causes too).
 *   - raw_tp/sys_exit: calls the run's seccomp filter refused with an errno (a refused call
 *     never fires sys_enter, but fires sys_exit with the filter's -errno) and calls it logs.
 *   - raw_tp/signal_generate: calls it answered with a kill (SIGSYS, SYS_SECCOMP).
 *
 * Counting: the IP filter's programs count refused connects and sends themselves; the
 * seccomp refusals are counted here, in place in `syscall_rules`. Events only attribute.
 */
#include <linux/bpf.h>
#include <asm/ptrace.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "sandbox_abi.h"

#define AF_INET 2
#define AF_INET6 10
#define EPERM 1
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

/* A socket call in flight: what the caller asked for. */
struct pending_call {
	__u8 type;
	__u8 family;
	__u16 port;
	__u32 pad;
	__u8 addr[SANDBOX_ADDR_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH); /* a thread killed mid-call leaves its entry */
	__type(key, __u32);		     /* the thread */
	__type(value, struct pending_call);
	__uint(max_entries, 4096);
} pending SEC(".maps");

/* The layout of the syscalls:sys_enter_* and sys_exit_* tracepoints' records. */
struct syscall_enter {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

struct syscall_exit {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__s64 ret;
};

struct user_sockaddr {
	__u16 family;
	__u16 port; /* network order */
	union {
		__u32 addr4;
		struct {
			__u32 flowinfo;
			__u32 addr6[4];
		};
	};
};

/* The message header's first member, for sendmsg and sendmmsg. */
struct user_msghdr_head {
	__u64 name;
	__s32 namelen;
};

static __always_inline void *ring_of_current(__u64 *cgroup)
{
	*cgroup = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&run_events, cgroup);
}

/* At entry: remembers the address a task of a run passed. */
static __always_inline int remember(__u8 type, __u64 user_addr, __s64 len)
{
	__u64 cgroup;
	if (!user_addr || !ring_of_current(&cgroup))
		return 0;
	struct user_sockaddr sa = {};
	if (len < 8 || bpf_probe_read_user(&sa, len < (__s64)sizeof sa ? 8 : sizeof sa,
					   (void *)user_addr) < 0)
		return 0;
	struct pending_call call = {.type = type, .port = bpf_ntohs(sa.port)};
	if (sa.family == AF_INET) {
		call.family = AF_INET;
		__builtin_memcpy(call.addr, &sa.addr4, 4);
	} else if (sa.family == AF_INET6 && len >= 24) {
		if (sa.addr6[0] == 0 && sa.addr6[1] == 0 && sa.addr6[2] == bpf_htonl(0xffff)) {
			call.family = AF_INET; /* v4-mapped: reported as the IPv4 address */
			__builtin_memcpy(call.addr, &sa.addr6[3], 4);
		} else {
			call.family = AF_INET6;
			__builtin_memcpy(call.addr, sa.addr6, 16);
		}
	} else {
		return 0;
	}
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &tid, &call, BPF_ANY);
	return 0;
}

/* sendmsg and sendmmsg: the address is the message header's msg_name. */
static __always_inline int remember_msghdr(__u64 user_msg)
{
	struct user_msghdr_head head = {};
	if (!user_msg || bpf_probe_read_user(&head, sizeof head, (void *)user_msg) < 0)
		return 0;
	return remember(SANDBOX_TRACE_SENDMSG, head.name, head.namelen);
}

static __always_inline void fill_task(struct sandbox_trace_event *e)
{
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->comm, sizeof e->comm);
}

/* At exit: reports a call that failed with EPERM. */
static __always_inline int report(struct syscall_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct pending_call *call = bpf_map_lookup_elem(&pending, &tid);
	if (!call)
		return 0;
	struct pending_call seen = *call;
	bpf_map_delete_elem(&pending, &tid);
	__u64 cgroup;
	void *ring = ring_of_current(&cgroup);
	if (ctx->ret != -EPERM || !ring)
		return 0;
	struct sandbox_trace_event *e = bpf_ringbuf_reserve(ring, sizeof *e, 0);
	if (!e)
		return 0; /* full: the count is in the IP filter's table all the same */
	e->type = seen.type;
	e->family = seen.family;
	e->port = seen.port;
	e->result = (__s32)ctx->ret;
	e->nr = (__u32)ctx->nr;
	__builtin_memcpy(e->addr, seen.addr, sizeof e->addr);
	fill_task(e);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int rf_enter_connect(struct syscall_enter *ctx)
{
	return remember(SANDBOX_TRACE_CONNECT, ctx->args[1], (__s64)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int rf_enter_sendto(struct syscall_enter *ctx)
{
	return remember(SANDBOX_TRACE_SENDMSG, ctx->args[4], (__s64)ctx->args[5]);
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int rf_enter_sendmsg(struct syscall_enter *ctx)
{
	return remember_msghdr(ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_sendmmsg")
int rf_enter_sendmmsg(struct syscall_enter *ctx)
{
	return remember_msghdr(ctx->args[1]); /* the first message's header */
}

SEC("tracepoint/syscalls/sys_exit_connect")
int rf_exit_connect(struct syscall_exit *ctx)
{
	return report(ctx);
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int rf_exit_sendto(struct syscall_exit *ctx)
{
	return report(ctx);
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int rf_exit_sendmsg(struct syscall_exit *ctx)
{
	return report(ctx);
}

SEC("tracepoint/syscalls/sys_exit_sendmmsg")
int rf_exit_sendmmsg(struct syscall_exit *ctx)
{
	return report(ctx);
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
