// `ringfence syscalls`: the system call groups, as `systemd-analyze syscall-filter` prints them.
#include "cli/cli.hpp"

#include "policy/syscall_groups.hpp"

#include <cstdio>

namespace rf::cli {
namespace {

void print_group(const syscalls::Group &g) {
  std::printf("%.*s\n", static_cast<int>(g.name.size()), g.name.data());
  std::printf("    # %.*s\n", static_cast<int>(g.help.size()), g.help.data());
  for (auto member : g.members)
    std::printf("    %.*s\n", static_cast<int>(member.size()), member.data());
}

} // namespace

int syscalls_command(const std::vector<std::string> &names) {
  if (names.empty()) {
    bool first = true;
    for (const auto &g : syscalls::groups()) {
      if (!first)
        std::printf("\n");
      first = false;
      print_group(g);
    }
    return 0;
  }
  int status = 0;
  for (const auto &name : names) {
    if (name.starts_with("@")) {
      const auto *g = syscalls::find_group(name);
      if (!g) {
        std::fprintf(stderr, "ringfence: syscalls: unknown group '%s'\n", name.c_str());
        status = 1;
        continue;
      }
      std::printf("%s\n    # %.*s\n", name.c_str(), static_cast<int>(g->help.size()),
                  g->help.data());
      for (std::string_view member : syscalls::expand_group(name))
        std::printf("    %.*s\n", static_cast<int>(member.size()), member.data());
      continue;
    }
    if (!syscalls::is_known_name(name)) {
      std::fprintf(stderr, "ringfence: syscalls: unknown system call '%s'\n", name.c_str());
      status = 1;
      continue;
    }
    int nr = syscalls::native_number(name);
    std::printf("%s", name.c_str());
    if (nr >= 0)
      std::printf(" (%d)", nr);
    else
      std::printf(" (not on this architecture)");
    std::printf(":");
    for (const auto &g : syscalls::groups())
      for (auto member : g.members)
        if (member == name)
          std::printf(" %.*s", static_cast<int>(g.name.size()), g.name.data());
    std::printf("\n");
  }
  return status;
}

} // namespace rf::cli
