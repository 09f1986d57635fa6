// clone3() for children that share the caller's memory (CLONE_VM) and start in a function.
#pragma once

#include <linux/sched.h>

namespace rf {

// clone3() whose child calls entry(arg) on the stack given in `args` and never returns
// (entry ends with exit or execve). Returns the child's pid, or -errno.
long clone3_with_entry(clone_args *args, void (*entry)(void *), void *arg);

} // namespace rf
