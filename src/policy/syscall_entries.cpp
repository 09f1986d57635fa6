#include "policy/syscall_entries.hpp"

namespace rf {
namespace {

using Entries = std::map<std::string, int>;

// A name's neighbours in a group sit close together in the map, so a few steps forward
// usually reach it; for a name far ahead, one lookup from the root is cheaper than the walk.
constexpr int kStepsBeforeLookup = 8;

// The first entry not before `name`. Every entry before `from` must be before `name`.
Entries::iterator seek(Entries &entries, Entries::iterator from, std::string_view name) {
  for (int step = 0; step < kStepsBeforeLookup; ++step, ++from)
    if (from == entries.end() || from->first >= name)
      return from;
  return entries.lower_bound(std::string(name));
}

} // namespace

void assign_entries(Entries &entries, std::span<const std::string_view> names, int action) {
  auto at = entries.begin();
  for (std::string_view name : names) {
    at = seek(entries, at, name);
    if (at != entries.end() && at->first == name)
      at->second = action;
    else
      entries.emplace_hint(at, name, action); // right before `at`: no search
  }
}

void erase_entries(Entries &entries, std::span<const std::string_view> names) {
  auto at = entries.begin();
  for (std::string_view name : names) {
    at = seek(entries, at, name);
    if (at != entries.end() && at->first == name)
      at = entries.erase(at);
  }
}

} // namespace rf
