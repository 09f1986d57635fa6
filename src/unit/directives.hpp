// Folds a unit's assignment stream into a validated Policy, systemd's way: repeated list
// keys accumulate, an empty assignment resets, the last scalar wins. Every value is checked
// here; an invalid entry is an error, never skipped (a skipped deny entry fails open).
#pragma once

#include "policy/diagnostic.hpp"
#include "policy/policy.hpp"
#include "unit/loader.hpp"

#include <string>
#include <vector>

namespace rf::unit {

// One assignment that still shapes the policy after resets and overrides, for `show`.
struct EffectiveAssignment {
  std::string key;
  std::string value;
  Origin origin;
};

struct BuiltPolicy {
  Policy policy;
  std::vector<EffectiveAssignment> effective;
};

// `adhoc_command`, when not empty, is the command of an ad-hoc run (taken verbatim).
BuiltPolicy build_policy(const LoadedUnit &unit, const std::vector<std::string> &adhoc_command,
                         Diagnostics &diags);

// What ringfence does with a directive name, for documentation and tests.
enum class DirectiveClass {
  enforced,   // parsed, validated and enforced (or enforced by a later component)
  ignored,    // carries no protection: accepted and ignored
  unsupported, // changes behaviour ringfence does not implement: a warning
  unenforced, // a protection ringfence does not enforce yet: an error
  unknown,
};
DirectiveClass classify_directive(const std::string &section, const std::string &key);

} // namespace rf::unit
