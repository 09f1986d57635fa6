// libFuzzer target for the unit-file parser: arbitrary bytes through the reader, inih and
// the directive fold. Build: see tests/fuzz/meson.build (README, "Fuzzing").
#include "unit/directives.hpp"
#include "unit/ini_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  rf::Diagnostics diags;
  rf::unit::LoadedUnit unit;
  unit.name = rf::unit::UnitName{"fuzz@x.service", "fuzz", "x"};
  unit.fragment = "fuzz.service";
  unit.assignments = rf::unit::parse_ini(text, unit.fragment, diags);
  auto built = rf::unit::build_policy(unit, {}, diags);
  for (const auto &d : diags.items())
    if (d.origin.file.empty() || d.message.empty())
      __builtin_trap(); // every diagnostic must say where and what
  (void)built;
  return 0;
}
