// Reads the audit log's lines, and follows them as they are appended (`ringfence audit
// -f`), across truncation and rotation.
#pragma once

#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace rf::audit {

class LogReader {
public:
  using LineHandler = std::function<void(std::string_view line)>; // without its newline

  explicit LogReader(std::string path) : path_(std::move(path)) {}
  const std::string &path() const { return path_; }

  // Opens the log: true, or false when there is no file at the path (yet).
  Result<bool> open();
  bool is_open() const { return fd_.valid(); }

  // Hands over every complete line written since the last call. With `at_end`, also a last
  // line without a newline (the log is read once, not followed).
  Status read_lines(const LineHandler &handle, bool at_end);

  // One step of following: reads the lines written since the last call; when the path names
  // another file now (rotation) or the file shrank (truncation), continues from the start
  // of the file at the path. Opens the log when it appears.
  Status follow(const LineHandler &handle);

private:
  Status reopen_if_replaced(const LineHandler &handle);
  Error read_error() const { return Error::from_errno("cannot read " + path_); }

  std::string path_;
  UniqueFd fd_;
  dev_t device_ = 0;
  ino_t inode_ = 0;
  off_t offset_ = 0;    // how far the open file was read
  std::string partial_; // the start of a line whose newline was not read yet
};

} // namespace rf::audit
