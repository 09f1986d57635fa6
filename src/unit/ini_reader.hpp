// Reads one unit, drop-in or policy file into raw assignments, through inih.
//
// inih is driven through our own line reader (ini_parse_stream) because Debian's libinih
// by default cuts lines at 200 characters, strips " ;" inline comments and gives no line
// numbers. The reader joins systemd's "\" continuations, remembers where each logical line
// started, and refuses malformed lines itself, so inih only ever sees lines it handles whole.
#pragma once

#include "policy/diagnostic.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace rf::unit {

struct RawAssignment {
  std::string section; // "Service", "Unit", "Install", ...
  std::string key;
  std::string value;   // whitespace-trimmed, quotes kept
  Origin origin;
};

// Parses `text` (the contents of `file_name`); problems go to `diags`.
std::vector<RawAssignment> parse_ini(std::string_view text, const std::string &file_name,
                                     Diagnostics &diags);

} // namespace rf::unit
