// Unit names ("web.service", "getty@tty1.service") and systemd's % specifiers.
#pragma once

#include "util/result.hpp"

#include <string>
#include <string_view>

namespace rf::unit {

struct UnitName {
  std::string full;     // "getty@tty1.service"
  std::string prefix;   // "getty"
  std::string instance; // "tty1", empty for a non-instance unit
  bool is_instance() const { return full.find('@') != std::string::npos && !instance.empty(); }
  // "getty@.service" for an instance, else the name itself.
  std::string template_name() const;
};

// "web" → "web.service". Names with another unit type, or invalid characters, are refused.
Result<UnitName> parse_unit_name(std::string_view name);

// systemd's unit-name unescaping, for %I: "\x2d" → "-", "-" → "/".
std::string unescape_instance(std::string_view instance);

// Expands %n %N %p %i %I %t %S %C %L %E %h %u %U and %% in `text`. Any other specifier is an
// error: it is never passed through literally.
Result<std::string> expand_specifiers(std::string_view text, const UnitName &unit);

} // namespace rf::unit
