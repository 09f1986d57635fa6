#include "unit/unit_name.hpp"

#include <algorithm>

namespace rf::unit {
namespace {

constexpr std::string_view kSuffix = ".service";
constexpr std::string_view kOtherUnitTypes[] = {".socket", ".target", ".timer", ".mount",
                                                ".automount", ".path", ".slice", ".scope",
                                                ".device", ".swap"};

bool valid_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == ':' || c == '-' || c == '_' || c == '.' || c == '\\' || c == '@';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

} // namespace

std::string UnitName::template_name() const {
  if (instance.empty())
    return full;
  return prefix + "@" + std::string(kSuffix);
}

Result<UnitName> parse_unit_name(std::string_view name) {
  std::string full(name);
  if (!full.ends_with(kSuffix)) {
    for (std::string_view type : kOtherUnitTypes)
      if (full.ends_with(type))
        return Error::msg("'" + full + "' is not a service unit (only .service units can be run)");
    full += kSuffix;
  }
  std::string_view stem(full.data(), full.size() - kSuffix.size());
  if (stem.empty() || full.size() > 255 || !std::all_of(stem.begin(), stem.end(), valid_name_char))
    return Error::msg("invalid unit name '" + std::string(name) + "'");
  UnitName unit;
  unit.full = full;
  auto at = stem.find('@');
  if (at == std::string_view::npos) {
    unit.prefix = std::string(stem);
  } else {
    if (at == 0 || stem.find('@', at + 1) != std::string_view::npos)
      return Error::msg("invalid unit name '" + std::string(name) + "'");
    unit.prefix = std::string(stem.substr(0, at));
    unit.instance = std::string(stem.substr(at + 1));
  }
  return unit;
}

std::string unescape_instance(std::string_view instance) {
  std::string out;
  for (size_t i = 0; i < instance.size(); ++i) {
    char c = instance[i];
    if (c == '-') {
      out.push_back('/');
    } else if (c == '\\' && i + 3 < instance.size() && instance[i + 1] == 'x' &&
               hex_value(instance[i + 2]) >= 0 && hex_value(instance[i + 3]) >= 0) {
      out.push_back(static_cast<char>(hex_value(instance[i + 2]) * 16 + hex_value(instance[i + 3])));
      i += 3;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Result<std::string> expand_specifiers(std::string_view text, const UnitName &unit) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 == text.size())
      return Error::msg("'%' at the end of a value; write '%%' for a literal '%'");
    char spec = text[++i];
    switch (spec) {
    case '%': out += '%'; break;
    case 'n': out += unit.full; break;
    case 'N': out += unit.full.substr(0, unit.full.size() - kSuffix.size()); break;
    case 'p': out += unit.prefix; break;
    case 'i': out += unit.instance; break;
    case 'I': out += unescape_instance(unit.instance); break;
    // ringfence runs system services: the directories and user of the system manager.
    case 't': out += "/run"; break;
    case 'S': out += "/var/lib"; break;
    case 'C': out += "/var/cache"; break;
    case 'L': out += "/var/log"; break;
    case 'E': out += "/etc"; break;
    case 'h': out += "/root"; break;
    case 'u': out += "root"; break;
    case 'U': out += "0"; break;
    default:
      return Error::msg(std::string("unsupported specifier '%") + spec +
                        "' (supported: %n %N %p %i %I %t %S %C %L %E %h %u %U %%)");
    }
  }
  return out;
}

} // namespace rf::unit
