// Compiled seccomp programs, kept between runs. libseccomp takes milliseconds to build an
// allow-list filter (it resolves and sorts hundreds of rules), against a launch budget of
// 0.3 ms for the filter; the same policy always compiles to the same program, so a run
// reuses the program an earlier run of the same build compiled.
#pragma once

#include "policy/policy.hpp"
#include "seccomp/filter.hpp"
#include "util/result.hpp"

#include <string>

namespace rf::seccomp {

// Everything the filter depends on, as text: the seccomp directives of the policy, this
// executable (its GNU build id: a rebuilt or upgraded ringfence compiles anew) and
// libseccomp's version.
std::string cache_key(const Policy &policy, FilterOptions options = {});

// The program for `policy`: from the cache in `directory` when a trustworthy entry exists
// (root's own, in a root-owned directory that nobody else can write), else compiled and
// stored there. A cache that cannot be used is no error: the filter is compiled.
Result<CompiledFilter> compile_cached(const Policy &policy, const std::string &directory,
                                      FilterOptions options = {});

inline constexpr const char *kDefaultCacheDirectory = "/run/ringfence/seccomp";

} // namespace rf::seccomp
