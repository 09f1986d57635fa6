// Folding a sorted list of syscall names (a @group's expansion, or one name) into
// SyscallFilter::entries, as each SystemCallFilter= word does. A walk along the map that
// moves forward with the list replaces a full lookup per name: an allow list built from
// @system-service touches some 400 names, and every launch builds it anew.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

namespace rf {

// Sets the action of each name, adding the names that are not there yet.
// `names` must be sorted (byte order, as std::string compares) and unique.
void assign_entries(std::map<std::string, int> &entries, std::span<const std::string_view> names,
                    int action);

// Removes the names that are there; the others are no error.
// `names` must be sorted (byte order, as std::string compares) and unique.
void erase_entries(std::map<std::string, int> &entries, std::span<const std::string_view> names);

} // namespace rf
