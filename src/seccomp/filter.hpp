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

// A call the filter hands to the supervisor (FilterOptions::notify), and the answer.
struct NotifiedCall {
  int nr = 0;
  int err = 0; // the errno to answer with; 0 for a logged call, which runs
};

struct CompiledFilter {
  std::vector<sock_filter> program; // classic BPF, as seccomp(SECCOMP_SET_MODE_FILTER) takes
  // Native calls decided whatever their arguments, for the audit trail: those handed to the
  // supervisor (only with FilterOptions::notify), and those answered with a kill.
  std::vector<NotifiedCall> notified;
  std::vector<int> killed;
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

// How compile() lays out its program, for the cache key (seccomp/cache.cpp): changed with
// every change to the program compile() emits for a policy, so that cached programs of an
// earlier form are not loaded.
inline constexpr const char *kProgramForm = "program compact v1";

// The filter for a policy, or an error naming what cannot be enforced. Only call when
// policy.has_seccomp(). The program is libseccomp's, rewritten by compact() (same action for
// every call, a fraction of the instructions, so that the kernel loads it quickly).
Result<CompiledFilter> compile(const Policy &policy, FilterOptions options = {});

// The program as libseccomp exports it, before compact(): what compile()'s program must be
// equivalent to (tests, benchmarks).
Result<std::vector<sock_filter>> libseccomp_program(const Policy &policy,
                                                    FilterOptions options = {});

// The same filter in libseccomp's pseudo filter code, for `ringfence inspect --seccomp`
// (which shows it as `run` loads it: with FilterOptions::notify). It describes
// libseccomp_program(); compile()'s program decides every call the same way.
Result<std::string> pseudo_code(const Policy &policy, FilterOptions options = {});

} // namespace rf::seccomp
