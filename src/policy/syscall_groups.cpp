#include "policy/syscall_groups.hpp"

#include <seccomp.h>

#include <algorithm>
#include <iterator>
#include <ranges>

namespace rf::syscalls {
namespace {

#include "policy/syscall_group_table.inc"

static_assert(std::size(kGroupedNameStart) <= std::size_t{1} << 16, "NameId is 16 bits");

} // namespace

std::span<const Group> groups() { return kGroups; }

const Group *find_group(std::string_view name) {
  for (const Group &group : kGroups)
    if (group.name == name)
      return &group;
  return nullptr;
}

std::vector<std::string_view> expand_group(std::string_view name) {
  std::vector<std::string_view> names;
  if (const Group *group = find_group(name))
    std::ranges::transform(group->expansion, std::back_inserter(names), name_of);
  return names;
}

std::size_t grouped_name_count() { return std::size(kGroupedNameStart) - 1; }

std::string_view name_of(NameId id) {
  // Each name ends in a NUL, which the next start skips.
  return {kGroupedNameText + kGroupedNameStart[id],
          std::size_t{kGroupedNameStart[id + 1]} - kGroupedNameStart[id] - 1};
}

std::optional<NameId> id_of(std::string_view name) {
  auto ids = std::views::iota(std::size_t{0}, grouped_name_count());
  auto found = std::ranges::lower_bound(ids, name, {}, [](std::size_t id) {
    return name_of(static_cast<NameId>(id));
  });
  if (found == ids.end() || name_of(static_cast<NameId>(*found)) != name)
    return std::nullopt;
  return static_cast<NameId>(*found);
}

bool is_known_name(std::string_view name) {
  if (name.empty() || name.starts_with('@'))
    return false;
  // Every name systemd mentions in any group. @known covers them all upstream; the union
  // keeps is_known_name() right where it does not (Debian's uretprobe, nfsservctl).
  if (id_of(name))
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
