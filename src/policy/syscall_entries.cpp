#include "policy/syscall_entries.hpp"

#include <algorithm>

namespace rf {

std::string_view SyscallEntries::name_of(std::uint32_t name) const {
  return name < kOtherName ? syscalls::name_of(static_cast<syscalls::NameId>(name))
                           : std::string_view(other_names_[name - kOtherName]);
}

bool SyscallEntries::before(std::uint32_t a, std::uint32_t b) const {
  if (a < kOtherName && b < kOtherName)
    return a < b;
  return name_of(a) < name_of(b);
}

// The name's key if it could be here: its id, or its place among the other names.
std::optional<std::uint32_t> SyscallEntries::find_name(std::string_view name) const {
  if (std::optional<syscalls::NameId> id = syscalls::id_of(name))
    return *id;
  auto other = std::find(other_names_.begin(), other_names_.end(), name);
  if (other == other_names_.end())
    return std::nullopt;
  return kOtherName + static_cast<std::uint32_t>(other - other_names_.begin());
}

// Where `name` is, or would go: the index of the first entry not before it.
std::size_t SyscallEntries::position(std::uint32_t name) const {
  auto found = std::lower_bound(sorted_.begin(), sorted_.end(), name,
                                [this](const Entry &entry, std::uint32_t n) {
                                  return before(entry.name, n);
                                });
  return static_cast<std::size_t>(found - sorted_.begin());
}

bool SyscallEntries::holds(std::size_t at, std::uint32_t name) const {
  return at < sorted_.size() && sorted_[at].name == name;
}

std::optional<int> SyscallEntries::action(std::string_view name) const {
  std::optional<std::uint32_t> key = find_name(name);
  if (!key)
    return std::nullopt;
  std::size_t at = position(*key);
  return holds(at, *key) ? std::optional<int>(sorted_[at].action) : std::nullopt;
}

// Both lists are sorted: one walk along them builds the result in order.
void SyscallEntries::assign(std::span<const syscalls::NameId> names, int action) {
  std::vector<Entry> merged;
  merged.reserve(sorted_.size() + names.size());
  auto old = sorted_.begin();
  for (syscalls::NameId name : names) {
    for (; old != sorted_.end() && before(old->name, name); ++old)
      merged.push_back(*old);
    if (old != sorted_.end() && old->name == name)
      ++old; // replaced by the new action
    merged.push_back({name, action});
  }
  merged.insert(merged.end(), old, sorted_.end());
  sorted_ = std::move(merged);
}

// In place: the entries kept move down over the erased ones, in one walk.
void SyscallEntries::erase(std::span<const syscalls::NameId> names) {
  auto name = names.begin();
  auto kept = sorted_.begin();
  for (const Entry &entry : sorted_) {
    while (name != names.end() && before(*name, entry.name))
      ++name;
    if (name != names.end() && *name == entry.name)
      continue;
    *kept++ = entry;
  }
  sorted_.erase(kept, sorted_.end());
}

void SyscallEntries::assign(std::string_view name, int action) {
  std::optional<std::uint32_t> key = find_name(name);
  if (!key) {
    key = kOtherName + static_cast<std::uint32_t>(other_names_.size());
    other_names_.emplace_back(name);
  }
  std::size_t at = position(*key);
  if (holds(at, *key))
    sorted_[at].action = action;
  else
    sorted_.insert(sorted_.begin() + static_cast<std::ptrdiff_t>(at), {*key, action});
}

void SyscallEntries::erase(std::string_view name) {
  std::optional<std::uint32_t> key = find_name(name);
  if (!key)
    return;
  if (std::size_t at = position(*key); holds(at, *key))
    sorted_.erase(sorted_.begin() + static_cast<std::ptrdiff_t>(at));
}

bool SyscallEntries::operator==(const SyscallEntries &other) const {
  return std::equal(begin(), end(), other.begin(), other.end());
}

} // namespace rf
