#include "util/files.hpp"

#include "util/unique_fd.hpp"

#include <cerrno>
#include <fcntl.h>
#include <unistd.h>

namespace rf {

Result<std::string> read_file_at(int dir_fd, const char *path) {
  UniqueFd fd(::openat(dir_fd, path, O_RDONLY | O_CLOEXEC));
  if (!fd)
    return Error::from_errno(std::string("Failed to open ") + path);
  std::string text;
  char buffer[16384];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Error::from_errno(std::string("Failed to read ") + path);
    if (n == 0)
      return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
}

} // namespace rf
