#include "util/background.hpp"

#include <algorithm>
#include <unistd.h>

namespace rf {
namespace {

void close_all_but(std::vector<int> keep) {
  std::sort(keep.begin(), keep.end());
  unsigned first = 0;
  for (int fd : keep) {
    if (fd < static_cast<int>(first))
      continue;
    if (fd > static_cast<int>(first))
      ::close_range(first, static_cast<unsigned>(fd) - 1, 0);
    first = static_cast<unsigned>(fd) + 1;
  }
  ::close_range(first, ~0u, 0);
}

} // namespace

Result<pid_t> in_background(std::vector<int> keep, const std::function<bool()> &work) {
  pid_t child = ::fork();
  if (child < 0)
    return Error::from_errno("fork");
  if (child == 0) {
    close_all_but(std::move(keep));
    ::_exit(work() ? 0 : 1);
  }
  return child;
}

} // namespace rf
