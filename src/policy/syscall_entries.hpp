// SyscallFilter::entries: syscall name → action, sorted by name. A filter lists hundreds of
// names and every launch builds it anew, so this is one array of 8-byte entries rather than a
// tree of strings: a name some group lists is kept as its id (syscalls::NameId, which orders as
// the names do), and a @group's expansion, ids too, folds in with one merge of integers. The
// few other names (libseccomp knows more than systemd's groups) are kept as strings beside.
#pragma once

#include "policy/syscall_groups.hpp"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rf {

class SyscallEntries {
  struct Entry {
    std::uint32_t name; // a NameId, or kOtherName + an index into other_names_
    int action;
  };

public:
  using value_type = std::pair<std::string_view, int>; // what iteration yields, by value
  class const_iterator;

  const_iterator begin() const;
  const_iterator end() const;
  std::size_t size() const { return sorted_.size(); }
  bool empty() const { return sorted_.empty(); }

  std::optional<int> action(std::string_view name) const;
  bool contains(std::string_view name) const { return action(name).has_value(); }

  // Sets the action of each name, adding those not there yet. Sorted and unique, as
  // syscalls::Group::expansion is.
  void assign(std::span<const syscalls::NameId> names, int action);
  // Removes those names that are there. Sorted and unique, as above.
  void erase(std::span<const syscalls::NameId> names);
  // The same for one name, which no group need list.
  void assign(std::string_view name, int action);
  void erase(std::string_view name);

  // Same names with the same actions.
  bool operator==(const SyscallEntries &other) const;

private:
  static constexpr std::uint32_t kOtherName = std::uint32_t{1} << 16; // above every NameId

  std::string_view name_of(std::uint32_t name) const;
  bool before(std::uint32_t a, std::uint32_t b) const; // in the names' order
  std::optional<std::uint32_t> find_name(std::string_view name) const;
  std::size_t position(std::uint32_t name) const;
  bool holds(std::size_t at, std::uint32_t name) const;

  std::vector<Entry> sorted_;             // by name, unique
  std::vector<std::string> other_names_;  // names no group lists; kept once seen
};

class SyscallEntries::const_iterator {
public:
  using iterator_concept = std::forward_iterator_tag;
  using iterator_category = std::input_iterator_tag; // yields values, not references
  using value_type = SyscallEntries::value_type;
  using difference_type = std::ptrdiff_t;
  using reference = value_type;

  const_iterator() = default;
  value_type operator*() const { return {owner_->name_of(at_->name), at_->action}; }
  const_iterator &operator++() {
    ++at_;
    return *this;
  }
  const_iterator operator++(int) {
    const_iterator before = *this;
    ++at_;
    return before;
  }
  bool operator==(const const_iterator &other) const { return at_ == other.at_; }

private:
  friend class SyscallEntries;
  const_iterator(const SyscallEntries *owner, std::vector<Entry>::const_iterator at)
      : owner_(owner), at_(at) {}

  const SyscallEntries *owner_ = nullptr;
  std::vector<Entry>::const_iterator at_;
};

inline SyscallEntries::const_iterator SyscallEntries::begin() const {
  return {this, sorted_.begin()};
}
inline SyscallEntries::const_iterator SyscallEntries::end() const { return {this, sorted_.end()}; }

} // namespace rf
