// Work the supervisor must not wait for: some kernel calls wait for an RCU grace period after
// their work is done (a change to a BPF map-in-map: 10-30 ms here; the last close of a
// tracing link). A forked child makes them with only the fds they need open (no lock of
// the supervisor's, no standard streams that a reader of ringfence's output waits on), and
// nothing waits for it: the supervisor reaps it as a child subreaper, or init does.
#pragma once

#include "util/result.hpp"

#include <functional>
#include <sys/types.h>
#include <vector>

namespace rf {

// Forks a child that closes every fd but `keep`, runs `work` and exits (0 when it returns
// true). Returns the child's pid.
Result<pid_t> in_background(std::vector<int> keep, const std::function<bool()> &work);

} // namespace rf
