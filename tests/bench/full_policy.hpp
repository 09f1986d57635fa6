// The benchmarks' full seccomp policy (bench-syscall's setting (b), bench-seccomp-load's),
// as -p assignments and folded as `ringfence run` folds it.
#pragma once

#include "policy/policy.hpp"
#include "unit/directives.hpp"
#include "unit/ini_reader.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace bench {

inline const std::vector<std::string> kPolicy = {
    "SystemCallFilter=@system-service",
    "SystemCallFilter=~@privileged @resources",
    "SystemCallErrorNumber=EPERM",
    "SystemCallArchitectures=native",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "LockPersonality=yes",
    "MemoryDenyWriteExecute=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
};

// kPolicy as `run` folds it; exits 1 naming `program` when it does not parse.
inline rf::Policy bench_policy(const char *program) {
  std::string text = "[Service]\nExecStart=/bin/true\n";
  for (const auto &p : kPolicy)
    text += p + "\n";
  rf::Diagnostics diags;
  rf::unit::LoadedUnit unit;
  unit.name = *rf::unit::parse_unit_name("bench.service");
  unit.assignments = rf::unit::parse_ini(text, "bench.service", diags);
  rf::Policy policy = rf::unit::build_policy(unit, {}, diags).policy;
  if (diags.has_errors()) {
    std::fprintf(stderr, "%s: the benchmark policy does not parse\n", program);
    std::exit(1);
  }
  return policy;
}

} // namespace bench
