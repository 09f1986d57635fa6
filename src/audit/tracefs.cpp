#include "audit/tracefs.hpp"

#include "util/unique_fd.hpp"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

namespace rf::audit {
namespace {

constexpr const char *kTracefs = "/sys/kernel/tracing";
constexpr const char *kDebugfsTracing = "/sys/kernel/debug/tracing";

Result<int> read_id(const std::string &path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return Error::from_errno("Failed to open '" + path + "'");
  char text[32];
  ssize_t n = ::read(fd.get(), text, sizeof text);
  int id = -1;
  if (n <= 0 || std::from_chars(text, text + n, id).ec != std::errc() || id < 0)
    return Error::msg("'" + path + "' holds no tracepoint id");
  return id;
}

bool write_all(int fd, const void *data, std::size_t size) {
  const char *at = static_cast<const char *>(data);
  while (size > 0) {
    ssize_t n = ::write(fd, at, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    at += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// In a child: a private mount namespace, tracefs mounted in it, the ids read and written to
// `out` (errno first, 0 on success). The namespace goes with the child.
[[noreturn]] void read_ids_in_own_namespace(int out, const std::vector<const char *> &names) {
  int err = 0;
  std::vector<int> ids;
  if (::unshare(CLONE_NEWNS) < 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
      ::mount("tracefs", kTracefs, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) < 0) {
    err = errno;
  } else if (Result<std::vector<int>> read = read_tracepoint_ids(kTracefs, names); read) {
    ids = std::move(*read);
  } else {
    err = read.error().err ? read.error().err : EINVAL;
  }
  bool ok = write_all(out, &err, sizeof err) &&
            (err != 0 || write_all(out, ids.data(), ids.size() * sizeof(int)));
  ::_exit(ok ? 0 : 1);
}

Result<std::vector<int>> read_ids_in_child(const std::vector<const char *> &names) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) < 0)
    return Error::from_errno("pipe2");
  UniqueFd in(pipe_fds[0]), out(pipe_fds[1]);
  pid_t child = ::fork();
  if (child < 0)
    return Error::from_errno("fork");
  if (child == 0)
    read_ids_in_own_namespace(out.get(), names);
  out.reset();
  int err = 0;
  std::vector<int> ids(names.size(), -1);
  bool complete = ::read(in.get(), &err, sizeof err) == sizeof err &&
                  (err != 0 || ::read(in.get(), ids.data(), ids.size() * sizeof(int)) ==
                                   static_cast<ssize_t>(ids.size() * sizeof(int)));
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (err != 0)
    return Error::from_errno("Failed to mount tracefs in a private mount namespace", err);
  if (!complete)
    return Error::msg("Failed to read the tracepoint ids from tracefs");
  return ids;
}

} // namespace

Result<std::vector<int>> read_tracepoint_ids(const std::string &tracefs,
                                             const std::vector<const char *> &names) {
  std::vector<int> ids;
  for (const char *name : names) {
    Result<int> id = read_id(tracefs + "/events/" + name + "/id");
    if (!id)
      return id.error();
    ids.push_back(*id);
  }
  return ids;
}

Result<std::vector<int>> tracepoint_ids(const std::vector<const char *> &names) {
  for (const char *mount : {kTracefs, kDebugfsTracing})
    if (Result<std::vector<int>> ids = read_tracepoint_ids(mount, names); ids)
      return ids;
  return read_ids_in_child(names);
}

} // namespace rf::audit
