// The supervisor's end of seccomp's user notification. A filter compiled with
// FilterOptions::notify hands the calls it refuses with an errno (or logs) whatever their
// arguments to the listener; here each is answered as the filter itself would have (the
// errno, or "run it" for a logged call) and reported. This costs nothing to processes
// outside the sandbox, unlike a probe on every system call's exit.
#pragma once

#include "seccomp/filter.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <map>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rf::seccomp {

// One call answered: which, and who made it.
struct AnsweredCall {
  int nr = 0;
  int err = 0;     // the errno answered; 0: a logged call, let run
  pid_t pid = 0;   // the caller's process (tgid); 0 when it was gone already
  std::string comm;
};

class Notifications {
public:
  Notifications(UniqueFd listener, const std::vector<NotifiedCall> &calls);
  int fd() const { return listener_.get(); }

  // Answers the calls waiting now (call when fd() is readable).
  std::vector<AnsweredCall> answer_waiting();
  bool has_waiting() const;

private:
  UniqueFd listener_;
  std::map<int, int> errno_of_; // nr → errno (0: logged)
};

} // namespace rf::seccomp
