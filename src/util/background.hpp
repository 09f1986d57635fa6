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

// One bpf(2) map update or delete (BPF_MAP_UPDATE_ELEM with `value`, or BPF_MAP_DELETE_ELEM
// with value nullptr) that nothing waits for, made by a child that shares this process's
// memory and fd table (clone3 CLONE_VM | CLONE_FILES): about a tenth of a fork's cost. Key
// and value are copied; `map_fd` (and a value that is an fd) must stay open until the child
// has made the call, unless `map_fd` is a dup made for it: with `close_map` the child closes
// it when the call is done. The child's stack (a few KiB) is not freed: it is the
// supervisor's, for its life.
Result<pid_t> detached_map_call(int map_fd, const void *key, unsigned key_size, const void *value,
                                unsigned value_size, bool close_map);

} // namespace rf
