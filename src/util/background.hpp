// Work the supervisor must not wait for: some kernel calls wait for an RCU grace period after
// their work is done (a change to a BPF map-in-map: 10-30 ms here; the last close of a
// tracing link). A child makes them with only the fds they need open (no lock of the
// supervisor's, no standard stream that a reader of ringfence's output waits on), with every
// signal blocked (a Ctrl-C for the supervisor must not stop it half way), and nothing waits
// for it: the supervisor reaps it as a child subreaper, or init does.
#pragma once

#include "util/result.hpp"

#include <functional>
#include <optional>
#include <sys/types.h>
#include <vector>

namespace rf {

// Forks a child that keeps only the fds in `keep` (0-2 become /dev/null), runs `work` and
// exits (0 when it returns true). Returns the child's pid.
Result<pid_t> in_background(std::vector<int> keep, const std::function<bool()> &work);

// One BPF map update (`value` non-null) or delete, made by a child that shares this
// process's memory but not its fd table (clone3 with CLONE_VM: about a tenth of a fork's
// cost) and keeps only `map_fd` and `value_fd`. Key and value are copied. The caller may
// close its own fds at once.
class DetachedMapCall {
public:
  static Result<DetachedMapCall> start(int map_fd, const void *key, unsigned key_size,
                                       const void *value, unsigned value_size, int value_fd = -1);
  // The call's result once the child has made it (0 or -errno), else nullopt. The change is
  // visible to BPF programs as soon as it is made; the child then waits out the grace period.
  std::optional<long> result() const;

private:
  explicit DetachedMapCall(const long *result) : result_(result) {}
  const long *result_; // in the child's stack mapping, which is never freed (a few KiB)
};

} // namespace rf
