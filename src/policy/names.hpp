// Name tables for unit-file values that systemd spells symbolically: errno names
// (SystemCallErrorNumber=, "name:errno" filter entries), capabilities
// (CapabilityBoundingSet=, AmbientCapabilities=), address families
// (RestrictAddressFamilies=) and namespace types (RestrictNamespaces=).
// Pure lookups compiled from the system headers; no kernel calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rf::names {

// errno. Names are matched case-insensitively, as systemd's gperf tables do
// ("eperm" works). Aliases (EWOULDBLOCK, EDEADLOCK, ENOTSUP) are accepted;
// errno_name() returns the canonical spelling (EAGAIN, EDEADLK, EOPNOTSUPP).
inline constexpr int kErrnoMax = 4095; // systemd's ERRNO_MAX
std::optional<int> errno_from_name(std::string_view name);
std::string_view errno_name(int err); // "" if unknown
// SystemCallErrorNumber= rule: an errno name, or a decimal number 1..4095.
// "kill" and the empty string are the caller's business, not errnos.
std::optional<int> parse_errno(std::string_view text);

// Capabilities 0..CAP_LAST_CAP. Names need the CAP_ prefix and are matched
// case-insensitively; numbers are not accepted here.
std::optional<int> capability_from_name(std::string_view name);
std::string_view capability_name(int cap); // canonical "CAP_NET_ADMIN", "" if unknown
int capability_last();                      // CAP_LAST_CAP of the build headers

// Address families, as systemd's af-list: every AF_* glibc defines except
// AF_UNSPEC and AF_MAX, case-insensitive, aliases (AF_LOCAL, AF_FILE, AF_ROUTE)
// accepted. address_family_name() prefers AF_UNIX and AF_NETLINK.
std::optional<int> address_family_from_name(std::string_view name);
std::string_view address_family_name(int family); // "" if unknown

// RestrictNamespaces= types of systemd 252: cgroup ipc net mnt pid user uts
// (no "time": systemd 252 does not know it). Exact lower-case match, as
// systemd's streq(). Maps to one CLONE_NEW* flag ("mnt" → CLONE_NEWNS).
std::optional<std::uint64_t> namespace_flag_from_name(std::string_view name);
std::string_view namespace_name(std::uint64_t flag); // single flag; "" otherwise
std::uint64_t all_namespace_flags();                  // OR of the seven flags

} // namespace rf::names
