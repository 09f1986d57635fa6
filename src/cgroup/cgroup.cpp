#include "cgroup/cgroup.hpp"

#include "util/files.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <dirent.h>
#include <chrono>
#include <fcntl.h>
#include <linux/magic.h>
#include <memory>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

namespace rf::cgroup {
namespace {

Result<std::string> read_proc_file(const char *path) { return read_file_at(AT_FDCWD, path); }

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find(separator, start)) != std::string_view::npos;
       start = end + 1)
    parts.push_back(text.substr(start, end - start));
  parts.push_back(text.substr(start));
  return parts;
}

bool is_octal_digit(char c) { return c >= '0' && c <= '7'; }

bool is_octal_escape(std::string_view text, std::size_t at) {
  return text[at] == '\\' && at + 3 < text.size() && text[at + 1] >= '0' && text[at + 1] <= '3' &&
         is_octal_digit(text[at + 2]) && is_octal_digit(text[at + 3]);
}

// The kernel writes space, tab, newline and backslash in mountinfo paths as
// "\ooo" (fs/proc_namespace.c, mangle()); anything else is literal.
std::string unescape_mountinfo_path(std::string_view escaped) {
  std::string path;
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (is_octal_escape(escaped, i)) {
      int value = (escaped[i + 1] - '0') * 64 + (escaped[i + 2] - '0') * 8 + (escaped[i + 3] - '0');
      path.push_back(static_cast<char>(value));
      i += 3;
    } else {
      path.push_back(escaped[i]);
    }
  }
  return path;
}

// A mountinfo line reads "id parent major:minor root mount-point options
// [optional...] - fstype source super-options"; the optional fields vary in
// number, so the fstype is the field after the "-".
std::string_view fstype_of(const std::vector<std::string_view> &fields) {
  for (std::size_t i = 6; i < fields.size(); ++i)
    if (fields[i] == "-")
      return i + 3 < fields.size() ? fields[i + 1] : std::string_view();
  return {};
}

} // namespace

std::vector<MountEntry> parse_mountinfo(std::string_view mountinfo) {
  std::vector<MountEntry> mounts;
  for (std::string_view line : split(mountinfo, '\n')) {
    std::vector<std::string_view> fields = split(line, ' ');
    std::string_view fstype = fstype_of(fields);
    if (!fstype.empty())
      mounts.push_back({unescape_mountinfo_path(fields[4]), std::string(fstype)});
  }
  return mounts;
}

Result<std::string> read_mountinfo() { return read_proc_file("/proc/self/mountinfo"); }

namespace {

bool is_control_fstype(std::string_view fstype) {
  return fstype == "cgroup" || fstype == "cgroup2" || fstype == "bpf";
}

bool is_below(std::string_view path, std::string_view directory) {
  return directory == "/" ? path.size() > 1 && path.starts_with('/')
                          : path.size() > directory.size() && path.starts_with(directory) &&
                                path[directory.size()] == '/';
}

// A tmpfs with cgroup mounts below it and nothing else.
bool holds_only_cgroups(const MountEntry &tmpfs, const std::vector<MountEntry> &mounts) {
  if (tmpfs.fstype != "tmpfs")
    return false;
  bool any = false;
  for (const MountEntry &m : mounts) {
    if (!is_below(m.mount_point, tmpfs.mount_point))
      continue;
    if (m.fstype != "cgroup" && m.fstype != "cgroup2")
      return false;
    any = true;
  }
  return any;
}

} // namespace

std::vector<std::string> control_mounts(const std::vector<MountEntry> &mounts) {
  std::vector<std::string> roots;
  for (const MountEntry &m : mounts)
    if (holds_only_cgroups(m, mounts) &&
        std::find(roots.begin(), roots.end(), m.mount_point) == roots.end())
      roots.push_back(m.mount_point);
  for (const MountEntry &m : mounts) {
    bool covered = std::any_of(roots.begin(), roots.end(), [&](const std::string &root) {
      return root == m.mount_point || is_below(m.mount_point, root);
    });
    if (is_control_fstype(m.fstype) && !covered)
      roots.push_back(m.mount_point);
  }
  return roots;
}

Result<std::string> find_cgroup2_mount(const std::vector<MountEntry> &mounts) {
  for (const MountEntry &mount : mounts)
    if (mount.fstype == "cgroup2")
      return mount.mount_point;
  return Error::msg("No cgroup2 file system is mounted (none in /proc/self/mountinfo)");
}

Result<std::string> find_cgroup2_mount(std::string_view mountinfo) {
  return find_cgroup2_mount(parse_mountinfo(mountinfo));
}

Result<std::string> find_cgroup2_mount() {
  Result<std::string> text = read_proc_file("/proc/self/mountinfo");
  if (!text)
    return text.error();
  return find_cgroup2_mount(*text);
}

Result<std::string> own_cgroup_path(std::string_view proc_self_cgroup) {
  constexpr std::string_view unified_prefix = "0::";
  for (std::string_view line : split(proc_self_cgroup, '\n')) {
    if (!line.starts_with(unified_prefix))
      continue;
    std::string_view path = line.substr(unified_prefix.size());
    if (path.empty() || path.front() != '/')
      return Error::msg("Malformed cgroup2 entry in /proc/self/cgroup: '" + std::string(line) +
                        "'");
    return std::string(path);
  }
  return Error::msg("Not in a cgroup2 hierarchy (no \"0::\" line in /proc/self/cgroup)");
}

Result<std::string> own_cgroup_path() {
  Result<std::string> text = read_proc_file("/proc/self/cgroup");
  if (!text)
    return text.error();
  return own_cgroup_path(*text);
}

Result<std::uint64_t> cgroup_id(const std::string &path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0)
    return Error::from_errno("Failed to stat cgroup '" + path + "'");
  return std::uint64_t{st.st_ino};
}

CgroupDir::CgroupDir(std::string path, UniqueFd fd, std::uint64_t id)
    : path_(std::move(path)), fd_(std::move(fd)), id_(id), owned_(true) {}

CgroupDir::CgroupDir(CgroupDir &&other) noexcept
    : path_(std::move(other.path_)), fd_(std::move(other.fd_)), id_(other.id_),
      owned_(std::exchange(other.owned_, false)) {}

CgroupDir &CgroupDir::operator=(CgroupDir &&other) noexcept {
  if (this != &other) {
    static_cast<void>(remove());
    path_ = std::move(other.path_);
    fd_ = std::move(other.fd_);
    id_ = other.id_;
    owned_ = std::exchange(other.owned_, false);
  }
  return *this;
}

CgroupDir::~CgroupDir() { static_cast<void>(remove()); }

Result<CgroupDir> CgroupDir::create(const std::string &path) {
  if (::mkdir(path.c_str(), 0755) < 0)
    return Error::from_errno("Failed to create cgroup '" + path + "'");
  // Owned from here: every early return below removes the directory again.
  CgroupDir dir(path, UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)), 0);
  if (!dir.fd_)
    return Error::from_errno("Failed to open cgroup '" + path + "'");

  // mkdir succeeds on any file system; on a hybrid layout /sys/fs/cgroup itself
  // is a tmpfs, and a plain directory there would silently confine nothing.
  struct statfs fs {};
  if (::fstatfs(dir.fd(), &fs) < 0)
    return Error::from_errno("Failed to statfs cgroup '" + path + "'");
  if (fs.f_type != static_cast<decltype(fs.f_type)>(CGROUP2_SUPER_MAGIC))
    return Error::msg("'" + path + "' is not on a cgroup2 file system");

  struct stat st {};
  if (::fstat(dir.fd(), &st) < 0)
    return Error::from_errno("Failed to stat cgroup '" + path + "'");
  dir.id_ = st.st_ino;
  return dir;
}

Status CgroupDir::kill_all() {
  if (auto status = write_cgroup_file(fd_.get(), "cgroup.kill", "1"); !status)
    return status.error().wrap("Failed to kill the processes of cgroup '" + path_ + "'");
  return Ok{};
}

bool CgroupDir::remove_if_empty() {
  if (!owned_ || ::rmdir(path_.c_str()) == 0 || errno == ENOENT) {
    owned_ = false;
    fd_.reset();
  }
  return !owned_;
}

Status CgroupDir::remove() {
  if (!owned_)
    return Ok{};
  RF_TRY(remove_cgroup_tree(path_));
  owned_ = false;
  fd_.reset();
  return Ok{};
}

Result<std::string> read_cgroup_file(int dir_fd, const char *name) {
  return read_file_at(dir_fd, name);
}

Status write_cgroup_file(int dir_fd, const char *name, std::string_view value) {
  UniqueFd fd(::openat(dir_fd, name, O_WRONLY | O_CLOEXEC));
  if (!fd)
    return Error::from_errno(std::string("Failed to open ") + name);
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return Error::from_errno("Failed to write '" + std::string(value) + "' to " + name);
  return Ok{};
}

Result<std::vector<pid_t>> cgroup_processes(int dir_fd) {
  Result<std::string> text = read_cgroup_file(dir_fd, "cgroup.procs");
  if (!text)
    return text.error();
  std::vector<pid_t> pids;
  for (std::string_view line : split(*text, '\n')) {
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), pid);
    if (ec == std::errc() && end == line.data() + line.size() && pid > 0)
      pids.push_back(pid);
  }
  return pids;
}

Result<bool> populated(int dir_fd) {
  Result<std::string> events = read_cgroup_file(dir_fd, "cgroup.events");
  if (!events)
    return events.error();
  return events->find("populated 1") != std::string::npos;
}

Status kill_cgroup(const std::string &path) {
  UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir)
    return Error::from_errno("Failed to open cgroup '" + path + "'");
  if (auto status = write_cgroup_file(dir.get(), "cgroup.kill", "1"); !status)
    return status.error().wrap("Failed to kill the processes of cgroup '" + path + "'");
  return Ok{};
}

namespace {

std::vector<std::string> child_cgroups(const std::string &path) {
  std::vector<std::string> children;
  std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(path.c_str()), ::closedir);
  if (!dir)
    return children;
  while (const dirent *entry = ::readdir(dir.get()))
    if (entry->d_type == DT_DIR && std::strcmp(entry->d_name, ".") != 0 &&
        std::strcmp(entry->d_name, "..") != 0)
      children.push_back(path + "/" + entry->d_name);
  return children;
}

} // namespace

Status remove_cgroup_tree(const std::string &path) {
  // Most runs leave no child cgroups: try the rmdir before reading the directory.
  if (::rmdir(path.c_str()) == 0 || errno == ENOENT)
    return Ok{};
  for (const std::string &child : child_cgroups(path))
    RF_TRY(remove_cgroup_tree(child));
  // A killed process leaves its cgroup only once it has finished exiting, so
  // rmdir right after cgroup.kill can see EBUSY for a few milliseconds.
  constexpr int max_attempts = 200;
  constexpr auto retry_delay = std::chrono::milliseconds(5);
  for (int attempt = 1; ::rmdir(path.c_str()) < 0; ++attempt) {
    if (errno == ENOENT)
      return Ok{};
    if (errno != EBUSY || attempt == max_attempts)
      return Error::from_errno("Failed to remove cgroup '" + path + "'");
    std::this_thread::sleep_for(retry_delay);
  }
  return Ok{};
}

Result<ParentLock> ParentLock::acquire(int parent_fd) {
  // An open file description of its own: a lock belongs to the description, so one shared
  // with a dup kept elsewhere would outlive this guard.
  UniqueFd fd(::openat(parent_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd || ::flock(fd.get(), LOCK_EX) < 0)
    return Error::from_errno("Failed to lock the cgroup parent");
  return ParentLock(std::move(fd));
}

} // namespace rf::cgroup
