// The compiled-in table must equal what systemd-analyze prints on this machine:
// these tests fail (not skip) without systemd-analyze, because a skipped
// comparison would let a stale table pass CI unnoticed.
#include "policy/syscall_groups.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>
#include <sys/syscall.h>
#include <unistd.h>

namespace sc = rf::syscalls;

namespace {

// run_command() wants a path, so look systemd-analyze up in PATH ourselves.
std::string find_systemd_analyze() {
  const char *path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/systemd-analyze";
    if (access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

constexpr const char *kMissingAnalyze =
    "systemd-analyze not found in PATH. The syscall group table is checked against it; "
    "install the `systemd` package (apt-get install systemd) to run this test.";

struct ParsedGroup {
  std::string name;
  std::string help;
  std::vector<std::string> members;
};

// Parses `systemd-analyze syscall-filter --quiet [@group...]`: "@name" lines, then
// indented "# help" and member lines. Top-level "#" lines (the Ungrouped/Unlisted
// trailer, absent with --quiet) end the groups.
std::vector<ParsedGroup> parse_syscall_filter(const std::string &text) {
  std::vector<ParsedGroup> groups;
  bool in_group = false;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty())
      continue;
    if (line.starts_with('@')) {
      groups.push_back({line, {}, {}});
      in_group = true;
    } else if (line.starts_with('#')) {
      in_group = false;
    } else if (in_group && line.starts_with("    # ")) {
      groups.back().help = line.substr(6);
    } else if (in_group && line.starts_with("    ")) {
      groups.back().members.push_back(line.substr(4));
    } else {
      ADD_FAILURE() << "unexpected line in systemd-analyze output: '" << line << "'";
    }
  }
  return groups;
}

rf::test::CommandResult analyze(const std::vector<std::string> &args) {
  std::string bin = find_systemd_analyze();
  if (bin.empty())
    return {};
  std::vector<std::string> argv{bin, "syscall-filter", "--quiet"};
  argv.insert(argv.end(), args.begin(), args.end());
  // No pager or colours: the output is parsed.
  return rf::test::run_command(argv, {"SYSTEMD_PAGER=cat", "SYSTEMD_COLORS=0"});
}

std::vector<std::string> to_strings(std::span<const std::string_view> views) {
  return {views.begin(), views.end()};
}

bool contains(const std::vector<std::string_view> &names, std::string_view name) {
  return std::binary_search(names.begin(), names.end(), name);
}

// The group's syscall names found the slow way, from the direct members: what the generator
// must have emitted as the expansion.
void expand_recursively(const sc::Group &group, std::set<std::string_view> &names,
                        std::vector<std::string_view> &visiting) {
  ASSERT_EQ(std::count(visiting.begin(), visiting.end(), group.name), 0) << "cycle at " << group.name;
  visiting.push_back(group.name);
  for (std::string_view member : group.members) {
    if (!member.starts_with('@')) {
      names.insert(member);
      continue;
    }
    const sc::Group *nested = sc::find_group(member);
    ASSERT_NE(nested, nullptr) << member;
    expand_recursively(*nested, names, visiting);
  }
  visiting.pop_back();
}

} // namespace

TEST(SyscallGroups, GroupNamesEqualSystemdAnalyze) {
  ASSERT_FALSE(find_systemd_analyze().empty()) << kMissingAnalyze;
  auto result = analyze({});
  ASSERT_EQ(result.status, 0) << result.err;
  std::vector<std::string> expected;
  for (const auto &group : parse_syscall_filter(result.out))
    expected.push_back(group.name);
  std::vector<std::string> actual;
  for (const auto &group : sc::groups())
    actual.emplace_back(group.name);
  // Same order too: systemd prints its groups in table order.
  EXPECT_EQ(actual, expected) << "table from " << sc::table_source()
                              << "; regenerate with tools/gen-syscall-groups";
  EXPECT_EQ(actual.size(), 29u);
}

TEST(SyscallGroups, EveryGroupEqualsSystemdAnalyze) {
  ASSERT_FALSE(find_systemd_analyze().empty()) << kMissingAnalyze;
  for (const auto &group : sc::groups()) {
    SCOPED_TRACE(std::string(group.name));
    auto result = analyze({std::string(group.name)});
    ASSERT_EQ(result.status, 0) << result.err;
    auto parsed = parse_syscall_filter(result.out);
    ASSERT_EQ(parsed.size(), 1u);
    EXPECT_EQ(parsed[0].name, group.name);
    EXPECT_EQ(parsed[0].help, group.help);
    // Direct members, nested "@group" entries included, in systemd's order.
    EXPECT_EQ(to_strings(group.members), parsed[0].members)
        << "table from " << sc::table_source() << "; regenerate with tools/gen-syscall-groups";
  }
}

TEST(SyscallGroups, FindGroupNeedsTheAtSign) {
  const sc::Group *group = sc::find_group("@system-service");
  ASSERT_NE(group, nullptr);
  EXPECT_EQ(group->name, "@system-service");
  EXPECT_EQ(group->help, "General system service operations");
  EXPECT_EQ(sc::find_group("system-service"), nullptr);
  EXPECT_EQ(sc::find_group("@no-such-group"), nullptr);
  EXPECT_EQ(sc::find_group(""), nullptr);
  EXPECT_EQ(sc::groups().front().name, "@default");
  EXPECT_EQ(sc::groups().back().name, "@known");
}

TEST(SyscallGroups, NestedGroupsAllExist) {
  for (const auto &group : sc::groups()) {
    for (std::string_view member : group.members) {
      if (member.starts_with('@')) {
        EXPECT_NE(sc::find_group(member), nullptr) << group.name << " → " << member;
      }
    }
  }
}

TEST(SyscallGroups, ExpandSystemService) {
  auto names = sc::expand_group("@system-service");
  ASSERT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(std::adjacent_find(names.begin(), names.end()), names.end()) << "duplicates";
  for (const char *allowed : {"read", "write", "connect", "io_uring_setup", "execve", "clone3",
                              "unshare", "setns", "prctl", "ioctl", "uname", "chown"})
    EXPECT_TRUE(contains(names, allowed)) << allowed;
  for (const char *denied : {"mount", "reboot", "kexec_load", "init_module", "swapon",
                             "settimeofday", "ptrace", "iopl", "seccomp", "mincore"})
    EXPECT_FALSE(contains(names, denied)) << denied;
  for (const auto &name : names)
    EXPECT_FALSE(name.starts_with('@')) << name;
}

TEST(SyscallGroups, ExpandIncludesNestedGroupsAndOnlyThem) {
  auto privileged = sc::expand_group("@privileged");
  for (const char *from_nested : {"chown", "settimeofday", "init_module", "iopl", "reboot",
                                  "swapon", "bpf", "setuid"})
    EXPECT_TRUE(contains(privileged, from_nested)) << from_nested;
  EXPECT_FALSE(contains(privileged, "read"));

  auto aio = sc::expand_group("@aio");
  EXPECT_EQ(aio.size(), sc::find_group("@aio")->members.size());

  // @known holds @obsolete, so every obsolete call is known.
  auto known = sc::expand_group("@known");
  for (const auto &name : sc::expand_group("@obsolete"))
    EXPECT_TRUE(contains(known, name)) << name;

  EXPECT_TRUE(sc::expand_group("@nope").empty());
  EXPECT_TRUE(sc::expand_group("aio").empty());
}

TEST(SyscallGroups, ExpansionEqualsRecursiveExpansionOfMembers) {
  for (const auto &group : sc::groups()) {
    SCOPED_TRACE(std::string(group.name));
    std::set<std::string_view> expected;
    std::vector<std::string_view> visiting;
    expand_recursively(group, expected, visiting);
    // std::set orders as std::string_view compares: sorted and unique, as the table must be.
    std::vector<std::string_view> names;
    for (sc::NameId id : group.expansion)
      names.push_back(sc::name_of(id));
    EXPECT_EQ(names, std::vector<std::string_view>(expected.begin(), expected.end()))
        << "regenerate with tools/gen-syscall-groups";
    EXPECT_EQ(sc::expand_group(group.name), names);
  }
}

// Ids order as the names do (what lets SyscallEntries merge by comparing integers), and
// every name some group lists has one.
TEST(SyscallGroups, NameIdsFollowTheNamesOrder) {
  ASSERT_GT(sc::grouped_name_count(), 500u);
  for (std::size_t id = 0; id < sc::grouped_name_count(); ++id) {
    auto name = sc::name_of(static_cast<sc::NameId>(id));
    ASSERT_FALSE(name.empty());
    EXPECT_EQ(name.find('\0'), std::string_view::npos);
    EXPECT_EQ(sc::id_of(name), id) << name;
    if (id > 0) {
      EXPECT_LT(sc::name_of(static_cast<sc::NameId>(id - 1)), name);
    }
  }
  for (const auto &group : sc::groups()) {
    for (std::string_view member : group.members) {
      if (!member.starts_with('@')) {
        EXPECT_TRUE(sc::id_of(member)) << member;
      }
    }
  }
  EXPECT_EQ(sc::id_of("cachestat"), std::nullopt); // libseccomp's, in no group of systemd 252
  EXPECT_EQ(sc::id_of(""), std::nullopt);
  EXPECT_EQ(sc::id_of("zzz"), std::nullopt);
  EXPECT_EQ(sc::id_of("@default"), std::nullopt);
}

TEST(SyscallGroups, EveryGroupedNameIsKnown) {
  for (const auto &group : sc::groups())
    for (const auto &name : sc::expand_group(group.name))
      EXPECT_TRUE(sc::is_known_name(name)) << group.name << ": " << name;
}

TEST(SyscallGroups, IsKnownName) {
  EXPECT_TRUE(sc::is_known_name("read"));
  EXPECT_TRUE(sc::is_known_name("seccomp")); // ungrouped, only in @known
  EXPECT_TRUE(sc::is_known_name("socketcall")); // other architectures' calls count
  // Debian's 252.39 lists uretprobe in @default (not in @known), and libseccomp 2.5.4
  // cannot resolve it: only the union over all groups knows the name.
  EXPECT_TRUE(sc::is_known_name("uretprobe"));
  EXPECT_TRUE(sc::is_known_name("nfsservctl")); // in @privileged, not in @known
  EXPECT_FALSE(sc::is_known_name("no_such_call"));
  EXPECT_FALSE(sc::is_known_name(""));
  EXPECT_FALSE(sc::is_known_name("@system-service")); // groups are not syscall names
  EXPECT_FALSE(sc::is_known_name("READ"));
  EXPECT_FALSE(sc::is_known_name(std::string_view("read\0x", 6)));
}

TEST(SyscallGroups, NativeNumber) {
  EXPECT_EQ(sc::native_number("getppid"), __NR_getppid);
  EXPECT_EQ(sc::native_number("read"), __NR_read);
  EXPECT_EQ(sc::native_number("io_uring_setup"), __NR_io_uring_setup);
  EXPECT_LT(sc::native_number("socketcall"), 0); // i386 only
  EXPECT_LT(sc::native_number("no_such_call"), 0);
  EXPECT_LT(sc::native_number(""), 0);
}

TEST(SyscallGroups, TableSourceNamesSystemd252) {
  EXPECT_TRUE(sc::table_source().starts_with("systemd 252 ")) << sc::table_source();
}
