// Tracepoint ids, for attaching BPF programs to syscalls:* tracepoints through perf. They
// are only published in tracefs, which a fresh machine has not mounted: then a short-lived
// child mounts it in a mount namespace of its own and reads them there, and the host's
// mounts (and the service's view) stay as they were.
#pragma once

#include "util/result.hpp"

#include <string>
#include <vector>

namespace rf::audit {

// `names` as tracefs spells them below events/: "syscalls/sys_enter_connect".
Result<std::vector<int>> tracepoint_ids(const std::vector<const char *> &names);

// Reads the ids below one tracefs mount point; ENOENT when it is not mounted there.
Result<std::vector<int>> read_tracepoint_ids(const std::string &tracefs,
                                             const std::vector<const char *> &names);

} // namespace rf::audit
