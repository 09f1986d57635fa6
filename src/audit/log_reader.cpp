#include "audit/log_reader.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rf::audit {

Result<bool> LogReader::open() {
  UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd)
    return errno == ENOENT ? Result<bool>(false) : Result<bool>(read_error());
  struct stat st {};
  if (::fstat(fd.get(), &st) < 0)
    return read_error();
  if (S_ISDIR(st.st_mode))
    return Error::from_errno("cannot read " + path_, EISDIR);
  fd_ = std::move(fd);
  device_ = st.st_dev;
  inode_ = st.st_ino;
  offset_ = 0;
  partial_.clear();
  return true;
}

Status LogReader::read_lines(const LineHandler &handle, bool at_end) {
  if (!fd_)
    return Ok{};
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return read_error();
    if (n == 0)
      break;
    offset_ += n;
    std::string_view chunk(buffer, static_cast<std::size_t>(n));
    for (std::size_t newline; (newline = chunk.find('\n')) != std::string_view::npos;) {
      partial_.append(chunk.substr(0, newline));
      handle(partial_);
      partial_.clear();
      chunk.remove_prefix(newline + 1);
    }
    partial_.append(chunk);
  }
  if (at_end && !partial_.empty()) {
    handle(partial_);
    partial_.clear();
  }
  return Ok{};
}

Status LogReader::follow(const LineHandler &handle) {
  if (!fd_) {
    auto opened = open();
    if (!opened)
      return opened.error();
    if (!*opened)
      return Ok{};
  }
  RF_TRY(read_lines(handle, false));
  return reopen_if_replaced(handle);
}

Status LogReader::reopen_if_replaced(const LineHandler &handle) {
  struct stat at_path {}, open_file {};
  if (::stat(path_.c_str(), &at_path) < 0)
    return errno == ENOENT ? Status(Ok{}) : Status(read_error()); // rotated, not recreated yet
  if (::fstat(fd_.get(), &open_file) < 0)
    return read_error();
  bool replaced = at_path.st_dev != device_ || at_path.st_ino != inode_;
  bool truncated = open_file.st_size < offset_;
  if (!replaced && !truncated)
    return Ok{};
  if (replaced)
    RF_TRY(read_lines(handle, true)); // what was written to the old file meanwhile
  partial_.clear();
  fd_.reset();
  auto opened = open();
  if (!opened)
    return opened.error();
  return read_lines(handle, false);
}

} // namespace rf::audit
