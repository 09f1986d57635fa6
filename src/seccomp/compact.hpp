// libseccomp's program, rewritten into an equivalent one that the kernel loads quickly.
//
// seccomp(SECCOMP_SET_MODE_FILTER) costs the kernel time in proportion to the program: it
// converts the classic BPF to eBPF, JIT-compiles that, and runs the filter once per syscall
// number of each ABI to fill its action cache. libseccomp 2.5 spends an instruction or more on
// each syscall it has a rule for, and repeats argument tests along every path of its trees:
// 704 instructions (≈ 0.2 ms to load) for @system-service with the usual hardening directives.
//
// compact() evaluates that program for every range of syscall numbers in which it behaves
// alike (ranges between the constants it compares with), with the argument words unknown, and
// emits what is left: per ABI a binary search over the ranges (a single number that interrupts
// a range is tested on the way, one JEQ), whose leaves are shared return instructions or the
// syscall's argument tests, those simplified by what the path has already tested (bits known
// set or clear; a chain of comparisons of one value turned into a search over its values).
// The same action for every input, by construction: each rewritten path is the original
// program's path less the tests whose outcome is already known. 140 instructions for that
// policy.
#pragma once

#include <linux/filter.h>
#include <optional>
#include <vector>

namespace rf::seccomp {

// An equivalent program to `program`, or nullopt when it is not shorter, or `program` uses an
// instruction that libseccomp does not emit for seccomp (this handles loads of seccomp_data
// words, AND with a constant, jumps on a constant and returns). The result uses the same
// instructions and JSET, none of which keeps the kernel's action cache from answering a call
// that the program allows whatever its arguments.
std::optional<std::vector<sock_filter>> compact(const std::vector<sock_filter> &program);

} // namespace rf::seccomp
