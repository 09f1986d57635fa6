#include "cgroup/invocations.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <string_view>
#include <unistd.h>

namespace rf::cgroup {
namespace {

constexpr const char *kInvocationXattr = "trusted.invocation_id";
constexpr const char *kSupervisorXattr = "trusted.ringfence.supervisor";
// A run marks its cgroup right after mkdir; an unmarked one older than this is debris.
constexpr auto kUnmarkedGrace = std::chrono::seconds(10);

std::string get_xattr(const std::string &path, const char *name) {
  char value[128];
  ssize_t n = ::getxattr(path.c_str(), name, value, sizeof value);
  return n > 0 ? std::string(value, static_cast<std::size_t>(n)) : std::string();
}

bool delegated_to_us(const std::string &path) {
  return get_xattr(path, "trusted.delegate") == "1" || get_xattr(path, "user.delegate") == "1";
}

Status make_cgroup_path(const std::string &path) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST)
    return Ok{};
  if (errno != ENOENT)
    return Error::from_errno("Failed to create cgroup '" + path + "'");
  std::size_t slash = path.rfind('/');
  if (slash == 0 || slash == std::string::npos)
    return Error::from_errno("Failed to create cgroup '" + path + "'", ENOENT);
  RF_TRY(make_cgroup_path(path.substr(0, slash)));
  if (::mkdir(path.c_str(), 0755) < 0 && errno != EEXIST)
    return Error::from_errno("Failed to create cgroup '" + path + "'");
  return Ok{};
}

bool is_hex_id(std::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool older_than(const std::string &path, std::chrono::seconds age) {
  struct stat st {};
  if (::stat(path.c_str(), &st) < 0)
    return false;
  auto made = std::chrono::system_clock::from_time_t(st.st_ctim.tv_sec);
  return std::chrono::system_clock::now() - made > age;
}

bool is_stale(const std::string &path) {
  std::string mark = get_xattr(path, kSupervisorXattr);
  if (mark.empty())
    return older_than(path, kUnmarkedGrace);
  // A mark ringfence did not write is someone else's cgroup: never reaped.
  Result<SupervisorMark> supervisor = SupervisorMark::parse(mark);
  return supervisor && !supervisor->alive();
}

} // namespace

Result<Parent> resolve_parent(const std::string &cgroup2_mount, const std::string &requested) {
  Parent parent;
  if (!requested.empty()) {
    if (requested.front() != '/' || requested.find("/..") != std::string::npos)
      return Error::msg("cgroup parent '" + requested +
                        "' must be an absolute cgroup path such as /ringfence");
    parent.path = cgroup2_mount + (requested == "/" ? "" : requested);
  } else {
    Result<std::string> own = own_cgroup_path();
    if (!own)
      return own.error();
    std::string own_path = cgroup2_mount + (*own == "/" ? "" : *own);
    if (*own != "/" && delegated_to_us(own_path)) {
      parent.path = own_path;
      parent.delegated = true;
    } else {
      parent.path = cgroup2_mount + std::string(kDefaultParent);
    }
  }
  RF_TRY(make_cgroup_path(parent.path));
  return parent;
}

Status leave_parent(const Parent &parent) {
  if (!parent.delegated)
    return Ok{};
  std::string leaf = parent.path + "/supervisor";
  if (::mkdir(leaf.c_str(), 0755) < 0 && errno != EEXIST)
    return Error::from_errno("Failed to create cgroup '" + leaf + "'");
  UniqueFd dir(::open(leaf.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir)
    return Error::from_errno("Failed to open cgroup '" + leaf + "'");
  return write_cgroup_file(dir.get(), "cgroup.procs", std::to_string(::getpid()));
}

std::string invocation_cgroup_name(const std::string &unit, const std::string &invocation_id) {
  return unit + "-" + invocation_id;
}

bool is_invocation_cgroup_name(std::string_view name) {
  std::size_t dash = name.rfind('-');
  return dash != std::string_view::npos && dash > 0 && is_hex_id(name.substr(dash + 1));
}

Result<SupervisorMark> SupervisorMark::of_process(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd)
    return Error::from_errno("Failed to open " + path);
  char buffer[1024];
  ssize_t n = ::read(fd.get(), buffer, sizeof buffer - 1);
  if (n <= 0)
    return Error::from_errno("Failed to read " + path);
  std::string_view stat(buffer, static_cast<std::size_t>(n));
  // comm (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  std::size_t paren = stat.rfind(')');
  if (paren == std::string_view::npos)
    return Error::msg("Malformed " + path);
  std::size_t at = paren + 2; // field 3, the state, starts here
  // A zombie has exited; only its parent has not reaped it yet.
  if (at < stat.size() && (stat[at] == 'Z' || stat[at] == 'X'))
    return Error::msg(path + ": the process has exited");
  for (int field = 3; field < 22; ++field) {
    at = stat.find(' ', at);
    if (at == std::string_view::npos)
      return Error::msg("Malformed " + path);
    ++at;
  }
  SupervisorMark mark{pid, 0};
  auto [end, ec] = std::from_chars(stat.data() + at, stat.data() + stat.size(), mark.start_time);
  if (ec != std::errc())
    return Error::msg("Malformed " + path);
  return mark;
}

Result<SupervisorMark> SupervisorMark::parse(std::string_view text) {
  SupervisorMark mark;
  const char *end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, mark.pid);
  if (ec != std::errc() || p == end || *p != ' ' || mark.pid <= 0)
    return Error::msg("Malformed supervisor mark '" + std::string(text) + "'");
  auto [q, ec2] = std::from_chars(p + 1, end, mark.start_time);
  if (ec2 != std::errc() || q != end)
    return Error::msg("Malformed supervisor mark '" + std::string(text) + "'");
  return mark;
}

std::string SupervisorMark::str() const {
  return std::to_string(pid) + " " + std::to_string(start_time);
}

bool SupervisorMark::alive() const {
  Result<SupervisorMark> now = of_process(pid);
  return now && now->start_time == start_time;
}

Status mark_invocation(const CgroupDir &dir, const std::string &invocation_id,
                       const SupervisorMark &supervisor) {
  std::string mark = supervisor.str();
  if (::fsetxattr(dir.fd(), kInvocationXattr, invocation_id.data(), invocation_id.size(), 0) < 0 ||
      ::fsetxattr(dir.fd(), kSupervisorXattr, mark.data(), mark.size(), 0) < 0)
    return Error::from_errno("Failed to mark cgroup '" + dir.path() + "'");
  return Ok{};
}

Result<std::set<std::uint64_t>> invocation_ids(const std::string &parent) {
  std::set<std::uint64_t> ids;
  std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(parent.c_str()), ::closedir);
  if (!dir)
    return Error::from_errno("Failed to open cgroup '" + parent + "'");
  while (const dirent *entry = ::readdir(dir.get()))
    if (entry->d_type == DT_DIR && is_invocation_cgroup_name(entry->d_name))
      ids.insert(entry->d_ino); // a cgroup's id is its inode number
  return ids;
}

Result<std::vector<LiveRun>> live_runs(const std::string &parent, const char *advert_xattr) {
  std::vector<LiveRun> runs;
  std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(parent.c_str()), ::closedir);
  if (!dir)
    return Error::from_errno("Failed to open cgroup '" + parent + "'");
  while (const dirent *entry = ::readdir(dir.get())) {
    if (entry->d_type != DT_DIR || !is_invocation_cgroup_name(entry->d_name))
      continue;
    std::string path = parent + "/" + entry->d_name;
    Result<SupervisorMark> supervisor = SupervisorMark::parse(get_xattr(path, kSupervisorXattr));
    if (supervisor && supervisor->alive())
      runs.push_back({path, *supervisor, get_xattr(path, advert_xattr)});
  }
  return runs;
}

int cgroup_level(const std::string &cgroup2_mount, const std::string &path) {
  // Components, not slashes: "//a", "/a/." and "/a//" are all level 1 (a level one too deep
  // would make the IP filter find no run for any socket, and pass everything). ".." is
  // refused when the parent is resolved.
  int level = 0;
  std::string_view rest = std::string_view(path).substr(std::min(cgroup2_mount.size(), path.size()));
  while (!rest.empty()) {
    std::size_t slash = rest.find('/');
    std::string_view component = rest.substr(0, slash);
    if (!component.empty() && component != ".")
      ++level;
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  }
  return level;
}

Result<std::vector<std::string>> reap_stale_invocations(const std::string &parent) {
  std::vector<std::string> stale;
  {
    std::unique_ptr<DIR, int (*)(DIR *)> dir(::opendir(parent.c_str()), ::closedir);
    if (!dir)
      return Error::from_errno("Failed to open cgroup '" + parent + "'");
    while (const dirent *entry = ::readdir(dir.get()))
      if (entry->d_type == DT_DIR && is_invocation_cgroup_name(entry->d_name) &&
          is_stale(parent + "/" + entry->d_name))
        stale.emplace_back(entry->d_name);
  }
  for (const std::string &name : stale) {
    std::string path = parent + "/" + name;
    if (auto status = kill_cgroup(path); !status && status.error().err != ENOENT)
      return status.error();
    RF_TRY(remove_cgroup_tree(path));
  }
  return stale;
}

} // namespace rf::cgroup
