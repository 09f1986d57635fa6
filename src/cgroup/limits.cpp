#include "cgroup/limits.hpp"

#include "cgroup/cgroup.hpp"

#include <charconv>
#include <fcntl.h>
#include <set>
#include <sys/sysinfo.h>
#include <unistd.h>

namespace rf::cgroup {
namespace {

Result<std::uint64_t> parse_size(const std::string &directive, const std::string &text,
                                 std::uint64_t total) {
  auto invalid = [&] { return Error::msg(directive + "=" + text + ": invalid size"); };
  std::uint64_t number = 0;
  const char *begin = text.data(), *end = text.data() + text.size();
  auto [p, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || p == begin)
    return invalid();
  std::string_view suffix(p, static_cast<std::size_t>(end - p));
  if (suffix == "%") {
    if (number > 100)
      return invalid();
    return total / 100 * number;
  }
  static constexpr std::string_view kSuffixes = "KMGTPE";
  unsigned shift = 0;
  if (suffix.size() == 1 && kSuffixes.find(suffix[0]) != std::string_view::npos)
    shift = 10 * static_cast<unsigned>(kSuffixes.find(suffix[0]) + 1);
  else if (!suffix.empty())
    return invalid();
  if (shift && number > (~std::uint64_t{0} >> shift))
    return invalid();
  return number << shift;
}

Result<std::string> size_value(const std::string &directive, const std::string &text,
                               std::uint64_t total) {
  if (text == "infinity")
    return std::string("max");
  Result<std::uint64_t> bytes = parse_size(directive, text, total);
  if (!bytes)
    return bytes.error();
  return std::to_string(*bytes);
}

// cgroup.controllers is a space-separated list ending in a newline.
bool has_word(std::string_view list, std::string_view word) {
  for (std::size_t at = 0; at < list.size();) {
    std::size_t end = list.find_first_of(" \n", at);
    if (end == std::string_view::npos)
      end = list.size();
    if (list.substr(at, end - at) == word)
      return true;
    at = end + 1;
  }
  return false;
}

Status add(std::vector<CgroupSetting> &out, const char *directive, const char *controller,
           const char *file, Result<std::string> value) {
  if (!value)
    return value.error();
  out.push_back({directive, controller, file, *value});
  return Ok{};
}

} // namespace

MachineTotals MachineTotals::current() {
  MachineTotals totals;
  struct sysinfo info {};
  if (::sysinfo(&info) == 0)
    totals.memory_bytes = std::uint64_t{info.totalram} * info.mem_unit;
  UniqueFd fd(::open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC));
  char buffer[32];
  ssize_t n = fd ? ::read(fd.get(), buffer, sizeof buffer) : -1;
  if (n > 0)
    std::from_chars(buffer, buffer + n, totals.tasks);
  return totals;
}

Result<std::vector<CgroupSetting>> cgroup_settings(const ResourceLimits &limits,
                                                   const MachineTotals &totals) {
  std::vector<CgroupSetting> out;
  if (limits.memory_max)
    RF_TRY(add(out, "MemoryMax", "memory", "memory.max",
               size_value("MemoryMax", *limits.memory_max, totals.memory_bytes)));
  if (limits.memory_high)
    RF_TRY(add(out, "MemoryHigh", "memory", "memory.high",
               size_value("MemoryHigh", *limits.memory_high, totals.memory_bytes)));
  if (limits.memory_swap_max)
    RF_TRY(add(out, "MemorySwapMax", "memory", "memory.swap.max",
               size_value("MemorySwapMax", *limits.memory_swap_max, totals.memory_bytes)));
  if (limits.tasks_max) {
    // A bare number is a count, not a size: no suffixes.
    Result<std::string> value = *limits.tasks_max == "infinity" ? Result<std::string>("max")
        : limits.tasks_max->ends_with('%')
            ? size_value("TasksMax", *limits.tasks_max, totals.tasks)
            : Result<std::string>(*limits.tasks_max);
    RF_TRY(add(out, "TasksMax", "pids", "pids.max", std::move(value)));
  }
  if (limits.cpu_quota) {
    std::string percent = limits.cpu_quota->substr(0, limits.cpu_quota->size() - 1);
    RF_TRY(add(out, "CPUQuota", "cpu", "cpu.max", std::to_string(std::stoul(percent) * 1000) +
                                                      " 100000"));
  }
  if (limits.cpu_weight) {
    if (*limits.cpu_weight == "idle")
      RF_TRY(add(out, "CPUWeight", "cpu", "cpu.idle", std::string("1")));
    else
      RF_TRY(add(out, "CPUWeight", "cpu", "cpu.weight", *limits.cpu_weight));
  }
  if (limits.io_weight)
    RF_TRY(add(out, "IOWeight", "io", "io.weight", "default " + *limits.io_weight));
  return out;
}

Status apply_settings(const std::string &cgroup2_mount, const std::string &parent,
                      int invocation_fd, const std::vector<CgroupSetting> &settings) {
  if (settings.empty())
    return Ok{};
  std::set<std::string> controllers;
  for (const auto &s : settings)
    controllers.insert(s.controller);

  // Each level from the root down to `parent` must pass the controller on to its children.
  std::vector<std::string> levels{cgroup2_mount};
  for (std::size_t at = cgroup2_mount.size(); (at = parent.find('/', at + 1)) != std::string::npos;)
    levels.push_back(parent.substr(0, at));
  if (parent != cgroup2_mount)
    levels.push_back(parent);
  for (const std::string &level : levels) {
    UniqueFd dir(::open(level.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dir)
      return Error::from_errno("Failed to open cgroup '" + level + "'");
    Result<std::string> available = read_cgroup_file(dir.get(), "cgroup.controllers");
    if (!available)
      return available.error();
    for (const auto &s : settings) {
      if (!has_word(*available, s.controller))
        return Error::msg(s.directive + "=: the " + s.controller +
                          " controller is not available in the cgroup2 hierarchy at '" + level +
                          "' (bound to a cgroup v1 hierarchy?)");
    }
    for (const std::string &controller : controllers)
      RF_TRY(write_cgroup_file(dir.get(), "cgroup.subtree_control", "+" + controller));
  }
  for (const auto &s : settings)
    if (auto status = write_cgroup_file(invocation_fd, s.file.c_str(), s.value); !status)
      return status.error().wrap(s.directive + "=");
  return Ok{};
}

} // namespace rf::cgroup
