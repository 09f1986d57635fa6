#include "policy/syscall_groups.hpp"

#include <seccomp.h>

#include <algorithm>
#include <string>

namespace rf::syscalls {
namespace {

#include "policy/syscall_group_table.inc"

} // namespace

std::span<const Group> groups() { return kGroups; }

const Group *find_group(std::string_view name) {
  for (const Group &group : kGroups)
    if (group.name == name)
      return &group;
  return nullptr;
}

std::span<const std::string_view> expand_group(std::string_view name) {
  const Group *group = find_group(name);
  return group ? group->expansion : std::span<const std::string_view>();
}

bool is_known_name(std::string_view name) {
  if (name.empty() || name.starts_with('@'))
    return false;
  // Every name systemd mentions in any group. @known covers them all upstream; the union
  // keeps is_known_name() right where it does not (Debian's uretprobe, nfsservctl).
  if (std::binary_search(std::begin(kEveryGroupedName), std::end(kEveryGroupedName), name))
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
