#include "policy/syscall_groups.hpp"

#include <seccomp.h>

#include <algorithm>
#include <string>

namespace rf::syscalls {
namespace {

#include "policy/syscall_group_table.inc"

void expand_into(const Group &group, std::vector<std::string> &out,
                 std::vector<std::string_view> &visiting) {
  // systemd's groups do not nest cyclically, but a hand-edited table must not recurse forever.
  if (std::find(visiting.begin(), visiting.end(), group.name) != visiting.end())
    return;
  visiting.push_back(group.name);
  for (std::string_view member : group.members) {
    if (member.starts_with('@')) {
      if (const Group *nested = find_group(member))
        expand_into(*nested, out, visiting);
    } else {
      out.emplace_back(member);
    }
  }
  visiting.pop_back();
}

// Every syscall name systemd mentions in any group, sorted for binary search. @known
// covers them all today; taking the union keeps is_known_name() right if it ever does not.
const std::vector<std::string_view> &systemd_names() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> all;
    for (const Group &group : kGroups)
      for (std::string_view member : group.members)
        if (!member.starts_with('@'))
          all.push_back(member);
    std::sort(all.begin(), all.end());
    all.erase(std::unique(all.begin(), all.end()), all.end());
    return all;
  }();
  return names;
}

} // namespace

std::span<const Group> groups() { return kGroups; }

const Group *find_group(std::string_view name) {
  for (const Group &group : kGroups)
    if (group.name == name)
      return &group;
  return nullptr;
}

std::vector<std::string> expand_group(std::string_view name) {
  std::vector<std::string> out;
  const Group *group = find_group(name);
  if (!group)
    return out;
  std::vector<std::string_view> visiting;
  expand_into(*group, out, visiting);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool is_known_name(std::string_view name) {
  if (name.empty() || name.starts_with('@'))
    return false;
  const auto &names = systemd_names();
  if (std::binary_search(names.begin(), names.end(), name))
    return true;
  return native_number(name) != __NR_SCMP_ERROR;
}

int native_number(std::string_view name) {
  // libseccomp wants a NUL-terminated string; an embedded NUL would cut the name short.
  if (name.find('\0') != std::string_view::npos)
    return __NR_SCMP_ERROR;
  const std::string copy(name);
  return seccomp_syscall_resolve_name(copy.c_str());
}

std::string_view table_source() { return kGeneratedFrom; }

} // namespace rf::syscalls
