// Reading a whole file into memory.
#pragma once

#include "util/result.hpp"

#include <string>

namespace rf {

// The whole of `path` (relative to `dir_fd`, or AT_FDCWD), read until EOF: /proc and
// cgroupfs files report size 0, so the size from stat is not to be trusted. The error is
// "Failed to open PATH" or "Failed to read PATH" with errno.
Result<std::string> read_file_at(int dir_fd, const char *path);

} // namespace rf
