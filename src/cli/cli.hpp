// The command line: one entry point, and one function per command. Errors become exactly
// one message on stderr here, at the edge.
#pragma once

#include <string>
#include <vector>

namespace rf::cli {

int main(int argc, char **argv);

struct UnitOptions {
  std::vector<std::string> overrides; // -p KEY=VALUE
  std::string unit_name;              // --unit-name
  std::string audit_log;              // --audit-log (used by run and audit)
  std::string cgroup_parent;          // --cgroup-parent (run, gc)
  bool json = false;
  bool verbose = false;
  bool seccomp = false; // inspect --seccomp
};

struct RunRequest {
  std::string unit;              // empty: ad hoc, `args` is the command
  std::vector<std::string> args; // the words after "--"
};

int verify_command(const std::vector<std::string> &units, const UnitOptions &options);
int show_command(const std::string &unit, const UnitOptions &options);
int run_command(const RunRequest &request, const UnitOptions &options);
int gc_command(const UnitOptions &options);
int inspect_command(const std::string &unit, const UnitOptions &options);
int syscalls_command(const std::vector<std::string> &names);
// argv[0] is "audit"; parses its own options.
int audit_command(int argc, char **argv);

// "ringfence: COMMAND: MESSAGE" and a hint on stderr; returns 2.
int usage_error(const char *command, const std::string &message);

} // namespace rf::cli
