// Shared by the seccomp tests: a policy from the lines of a [Service] section.
#pragma once

#include "policy/policy.hpp"
#include "unit/directives.hpp"
#include "unit/ini_reader.hpp"

#include <gtest/gtest.h>
#include <string>

namespace rf::test {

// The benchmarks' full policy (bench-syscall, bench-seccomp-load): @system-service with the
// usual hardening directives.
inline constexpr const char *kFullPolicy = "SystemCallFilter=@system-service\n"
                                           "SystemCallFilter=~@privileged @resources\n"
                                           "SystemCallErrorNumber=EPERM\n"
                                           "SystemCallArchitectures=native\n"
                                           "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
                                           "RestrictNamespaces=yes\nLockPersonality=yes\n"
                                           "MemoryDenyWriteExecute=yes\nRestrictRealtime=yes\n"
                                           "RestrictSUIDSGID=yes\n";

// A unit whose [Service] section is `body`, folded into a policy; the test fails on errors.
inline Policy policy_of(const std::string &body) {
  Diagnostics diags;
  unit::LoadedUnit unit;
  unit.name = *unit::parse_unit_name("t.service");
  unit.fragment = "t.service";
  unit.assignments = unit::parse_ini("[Service]\nExecStart=/bin/true\n" + body, "t.service", diags);
  unit::BuiltPolicy built = unit::build_policy(unit, {}, diags);
  std::string problems;
  for (const auto &d : diags.items())
    problems += d.str() + "\n";
  EXPECT_FALSE(diags.has_errors()) << problems;
  EXPECT_TRUE(built.policy.has_seccomp()) << body;
  return built.policy;
}

} // namespace rf::test
