// Finds a unit, its drop-ins and its Policy= fragments, and flattens them into one ordered
// stream of assignments: what systemd would apply, in the order it would apply it.
#pragma once

#include "policy/diagnostic.hpp"
#include "unit/ini_reader.hpp"
#include "unit/unit_name.hpp"

#include <string>
#include <vector>

namespace rf::unit {

struct SearchPaths {
  std::vector<std::string> units;    // highest priority first
  std::vector<std::string> policies; // highest priority first

  // RINGFENCE_UNIT_PATH / RINGFENCE_POLICY_PATH, or the defaults of the contract.
  static SearchPaths from_environment();
};

struct LoadRequest {
  std::string unit;                   // a name, or a path if it contains '/'; empty: ad hoc
  std::string adhoc_name;             // ad-hoc runs: the unit name to use
  std::vector<std::string> overrides; // -p KEY=VALUE, applied last, as [Service] lines
};

struct LoadedUnit {
  UnitName name;
  std::string fragment;              // the unit file's path; empty for an ad-hoc run
  std::vector<std::string> dropins;  // in the order applied
  std::vector<std::string> policies; // fragment files included through Policy=
  std::vector<RawAssignment> assignments;
  bool missing = false; // the unit file was not found: there is nothing to build
};

// Loads everything; every problem found goes to `diags` (the result is still returned, so
// `verify` can report all problems). `check_trust` refuses files others can write.
LoadedUnit load_unit(const LoadRequest &request, const SearchPaths &paths, Diagnostics &diags);

// Why `path` (a file, or a directory) cannot be trusted, or empty if it can: it, or a
// directory above it, is writable by a user other than root (sticky directories such as
// /tmp excepted, as they do not let others replace what lies below).
std::string untrusted_reason(const std::string &path);

} // namespace rf::unit
