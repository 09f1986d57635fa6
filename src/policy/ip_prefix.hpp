// IPAddressAllow=/IPAddressDeny= words: ADDRESS[/LENGTH] and systemd's symbolic names.
#pragma once

#include "policy/policy.hpp"
#include "util/result.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace rf {

// Parses one word: "10.0.0.0/8", "::1", "any", "localhost", "link-local", "multicast".
// Host bits beyond the prefix length are cleared. A word may expand to several prefixes.
Result<std::vector<IpPrefix>> parse_ip_prefix_word(std::string_view word);

// Removes duplicates and prefixes covered by a shorter one in the same list (systemd's
// in_addr_prefixes_reduce), returning them sorted by family, then address.
std::vector<IpPrefix> reduce_prefixes(std::vector<IpPrefix> prefixes);

// Does `outer` contain every address of `inner`?
bool prefix_covers(const IpPrefix &outer, const IpPrefix &inner);

// "10.0.0.0/8", "::1/128".
std::string format_prefix(const IpPrefix &prefix);

} // namespace rf
