// SystemCallFilter= and its family, compiled into ONE seccomp filter for the native ABI.
// systemd loads a filter per directive and per ABI, and the kernel runs each on every
// system call; one filter whose unconditional actions are constant per syscall number hits
// the kernel's action cache instead. Built by the supervisor (libseccomp); the child only
// hands the finished program to seccomp(2).
#pragma once

#include "policy/policy.hpp"
#include "util/result.hpp"

#include <linux/filter.h>
#include <string>
#include <vector>

namespace rf::seccomp {

struct CompiledFilter {
  std::vector<sock_filter> program; // classic BPF, as seccomp(SECCOMP_SET_MODE_FILTER) takes
};

// How the filter answers the calls it refuses with an errno, or logs, whatever their
// arguments (native ABI). `notify`: it hands them to the supervisor (SECCOMP_RET_USER_NOTIF),
// which answers with the same errno (or lets a logged call run) and records each: the audit
// trail of refused calls, at no cost to other processes. Not the calls the child makes after
// loading the filter, while its supervisor cannot answer yet (launch/child.cpp:
// rt_sigprocmask, getpid, execve, write, exit).
struct FilterOptions {
  bool notify = false;
};

// The filter for a policy, or an error naming what cannot be enforced. Only call when
// policy.has_seccomp().
Result<CompiledFilter> compile(const Policy &policy, FilterOptions options = {});

// The calls the filter refuses whatever their arguments, with the errno it answers (-1: the
// process is killed; the audit trail counts those kills). Calls refused only for some
// arguments are not listed.
struct RefusedCall {
  int nr;
  int err;
};
std::vector<RefusedCall> refused_calls(const Policy &policy);

// The calls a filter compiled with `notify` hands to the supervisor, and the answer.
struct NotifiedCall {
  int nr = 0;
  int err = 0;         // the errno to answer with; 0 for a logged call, which runs
};
std::vector<NotifiedCall> notified_calls(const Policy &policy);

// The same filter in libseccomp's pseudo filter code, for `ringfence inspect --seccomp`.
Result<std::string> pseudo_code(const Policy &policy);

} // namespace rf::seccomp
