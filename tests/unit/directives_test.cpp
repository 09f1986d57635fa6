// The fold of assignments into rf::Policy: systemd's merge rules, and every value checked.
#include "unit/directives.hpp"

#include "policy/ip_prefix.hpp"
#include "policy/names.hpp"
#include "policy/syscall_groups.hpp"
#include "unit/ini_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <linux/capability.h>
#include <map>
#include <sched.h>
#include <set>
#include <string>
#include <sys/socket.h>
#include <vector>

using namespace rf;
using namespace rf::unit;
using Strings = std::vector<std::string>;

namespace {

constexpr const char *kFile = "t.service";

struct Built {
  BuiltPolicy built;
  Diagnostics diags;
  const Policy &policy() const { return built.policy; }

  std::string dump() const {
    std::string s;
    for (const auto &d : diags.items())
      s += d.str() + "\n";
    return s;
  }
  std::vector<Diagnostic> errors() const {
    std::vector<Diagnostic> out;
    for (const auto &d : diags.items())
      if (d.severity == Diagnostic::Severity::error)
        out.push_back(d);
    return out;
  }
  std::vector<Diagnostic> warnings() const {
    std::vector<Diagnostic> out;
    for (const auto &d : diags.items())
      if (d.severity == Diagnostic::Severity::warning)
        out.push_back(d);
    return out;
  }
};

// Folds a whole unit file's text.
Built build_text(const std::string &text, const std::string &unit_name = "t.service") {
  Built b;
  LoadedUnit unit;
  unit.name = *parse_unit_name(unit_name);
  unit.fragment = kFile;
  unit.assignments = parse_ini(text, kFile, b.diags);
  b.built = build_policy(unit, {}, b.diags);
  return b;
}

// "[Service]" is line 1 and "ExecStart=/bin/true" line 2, so `body` starts at line 3.
Built build(const std::string &body) {
  return build_text("[Service]\nExecStart=/bin/true\n" + body);
}

// Expects no errors (warnings allowed).
#define EXPECT_CLEAN(b) EXPECT_FALSE((b).diags.has_errors()) << (b).dump()

// Expects exactly one error, at `line` of t.service, mentioning `text`.
void expect_error(const Built &b, int line, const std::string &text) {
  auto errors = b.errors();
  ASSERT_EQ(errors.size(), 1u) << b.dump();
  EXPECT_EQ(errors[0].origin.file, kFile) << errors[0].str();
  EXPECT_EQ(errors[0].origin.line, line) << errors[0].str();
  EXPECT_NE(errors[0].message.find(text), std::string::npos)
      << "'" << text << "' not in: " << errors[0].str();
}

// Expects an error at `line` mentioning `text`, whatever else was reported.
void expect_error_at(const Built &b, int line, const std::string &text) {
  for (const auto &d : b.errors())
    if (d.origin.file == kFile && d.origin.line == line && d.message.find(text) != std::string::npos)
      return;
  ADD_FAILURE() << "no error at line " << line << " with '" << text << "' in:\n" << b.dump();
}

Strings prefixes(const std::vector<IpPrefix> &list) {
  Strings out;
  for (const auto &p : list)
    out.push_back(format_prefix(p));
  return out;
}

std::uint64_t cap(int c) { return std::uint64_t{1} << c; }
std::uint64_t all_caps() { return (std::uint64_t{1} << (names::capability_last() + 1)) - 1; }

bool has(const SyscallFilter &f, const std::string &name) { return f.entries.contains(name); }

Strings effective(const Built &b, const std::string &key) {
  Strings out;
  for (const auto &e : b.built.effective)
    if (e.key == key)
      out.push_back(e.value);
  return out;
}

} // namespace

// ---- accumulation, reset, last-wins ----

TEST(Directives, RepeatedListKeysAccumulate) {
  auto b = build("IPAddressDeny=10.0.0.0/8\nIPAddressDeny=192.168.0.0/16 172.16.0.0/12\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(prefixes(b.policy().ip_deny),
            (Strings{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}));
}

TEST(Directives, EmptyAssignmentResetsAList) {
  auto b = build("IPAddressDeny=10.0.0.0/8\nIPAddressDeny=\nIPAddressDeny=192.168.0.0/16\n"
                 "IPAddressAllow=any\nIPAddressAllow=\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(prefixes(b.policy().ip_deny), (Strings{"192.168.0.0/16"}));
  EXPECT_TRUE(b.policy().ip_allow.empty());
}

TEST(Directives, IpListsAreReduced) {
  auto b = build("IPAddressDeny=10.1.0.0/16 10.0.0.0/8 10.0.0.0/8 ::1\nIPAddressDeny=localhost\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(prefixes(b.policy().ip_deny), (Strings{"10.0.0.0/8", "127.0.0.0/8", "::1/128"}));
}

TEST(Directives, IpWordsExpand) {
  auto b = build("IPAddressAllow=link-local multicast\nIPAddressDeny=any\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(prefixes(b.policy().ip_allow),
            (Strings{"169.254.0.0/16", "224.0.0.0/4", "fe80::/64", "ff00::/8"}));
  EXPECT_EQ(prefixes(b.policy().ip_deny), (Strings{"0.0.0.0/0", "::/0"}));
  EXPECT_TRUE(b.policy().has_ip_filter());
}

TEST(Directives, InvalidIpEntryIsAnErrorNotSkipped) {
  auto b = build("IPAddressDeny=10.0.0.0/8 true 192.168.0.0/16\n");
  expect_error(b, 3, "invalid IP address prefix 'true'");
}

TEST(Directives, EnvironmentAccumulatesUnquotesAndResets) {
  auto b = build("Environment=A=1 \"B=two words\"\nEnvironment='C=3'\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().environment, (Strings{"A=1", "B=two words", "C=3"}));
  auto r = build("Environment=A=1\nEnvironment=\nEnvironment=D=4\n");
  EXPECT_EQ(r.policy().environment, (Strings{"D=4"}));
}

TEST(Directives, EnvironmentNeedsNameEqualsValue) {
  expect_error(build("Environment=NOVALUE\n"), 3, "invalid environment assignment");
  expect_error(build("Environment=1A=x\n"), 3, "invalid environment assignment");
  expect_error(build("Environment=\"A=1\n"), 3, "unterminated");
}

TEST(Directives, EnvironmentFileSyntax) {
  auto b = build("EnvironmentFile=/etc/default/web\nEnvironmentFile=-/etc/default/opt\n");
  EXPECT_CLEAN(b);
  ASSERT_EQ(b.policy().environment_files.size(), 2u);
  EXPECT_EQ(b.policy().environment_files[0].path, "/etc/default/web");
  EXPECT_FALSE(b.policy().environment_files[0].optional);
  EXPECT_EQ(b.policy().environment_files[1].path, "/etc/default/opt");
  EXPECT_TRUE(b.policy().environment_files[1].optional);
  expect_error(build("EnvironmentFile=relative/path\n"), 3, "absolute");
}

TEST(Directives, SupplementaryGroupsAccumulateAndReset) {
  auto b = build("SupplementaryGroups=adm\nSupplementaryGroups=audio video\n");
  EXPECT_EQ(b.policy().supplementary_groups, (Strings{"adm", "audio", "video"}));
  auto r = build("SupplementaryGroups=adm\nSupplementaryGroups=\n");
  EXPECT_TRUE(r.policy().supplementary_groups.empty());
  expect_error(build("SupplementaryGroups=ok -bad\n"), 3, "invalid group name");
}

TEST(Directives, LastScalarWins) {
  auto b = build("User=alice\nUser=bob\nType=notify\nType=exec\nUMask=0022\nUMask=0077\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().user.value_or(""), "bob");
  EXPECT_EQ(b.policy().type, ServiceType::exec);
  EXPECT_EQ(b.policy().umask.value_or(0), 077u);
  EXPECT_EQ(effective(b, "User"), (Strings{"bob"}));
}

TEST(Directives, EmptyScalarResetsToDefault) {
  auto b = build("User=alice\nUser=\nType=notify\nType=\nUMask=0077\nUMask=\n");
  EXPECT_CLEAN(b);
  EXPECT_FALSE(b.policy().user.has_value());
  EXPECT_EQ(b.policy().type, ServiceType::simple);
  EXPECT_FALSE(b.policy().umask.has_value());
  EXPECT_TRUE(effective(b, "User").empty());
}

TEST(Directives, EffectiveAssignmentsFollowResets) {
  auto b = build("IPAddressDeny=10.0.0.0/8\nIPAddressDeny=\nIPAddressDeny=10.1.0.0/16\n"
                 "IPAddressDeny=10.2.0.0/16\n");
  EXPECT_EQ(effective(b, "IPAddressDeny"), (Strings{"10.1.0.0/16", "10.2.0.0/16"}));
  for (const auto &e : b.built.effective) {
    if (e.key == "IPAddressDeny") {
      EXPECT_TRUE(e.origin.line == 5 || e.origin.line == 6) << e.origin.str();
    }
  }
}

TEST(Directives, EveryBadLineIsReported) {
  auto b = build("User=-x\nUMask=9\nBogus=1\nLockPersonality=maybe\n");
  auto errors = b.errors();
  ASSERT_EQ(errors.size(), 4u) << b.dump();
  EXPECT_EQ(errors[0].origin.line, 3);
  EXPECT_EQ(errors[1].origin.line, 4);
  EXPECT_EQ(errors[2].origin.line, 5);
  EXPECT_EQ(errors[3].origin.line, 6);
}

// ---- ExecStart= and Type= ----

TEST(Directives, ExecStartIsParsed) {
  auto b = build_text("[Service]\nExecStart=-@/bin/sleep sleeper \"1 2\"\n");
  EXPECT_CLEAN(b);
  ASSERT_EQ(b.policy().exec_start.size(), 1u);
  const auto &c = b.policy().exec_start[0];
  EXPECT_EQ(c.argv, (Strings{"/bin/sleep", "1 2"}));
  EXPECT_EQ(c.argv0.value_or(""), "sleeper");
  EXPECT_TRUE(c.ignore_failure);
}

TEST(Directives, ExecStartSpecifiersAreExpanded) {
  auto b = build_text("[Service]\nExecStart=/bin/echo %n %i %I 100%%\n", "echo@a-b.service");
  EXPECT_CLEAN(b);
  ASSERT_EQ(b.policy().exec_start.size(), 1u);
  EXPECT_EQ(b.policy().exec_start[0].argv,
            (Strings{"/bin/echo", "echo@a-b.service", "a-b", "a/b", "100%"}));
}

TEST(Directives, ExecStartUnknownSpecifierIsAnError) {
  expect_error_at(build_text("[Service]\nExecStart=/bin/echo %x\n"), 2, "'%x'");
}

TEST(Directives, QuotedSemicolonInExecStartIsOneCommand) {
  auto b = build_text("[Service]\nExecStart=/bin/sh -c \"a ; b\"\n");
  EXPECT_CLEAN(b);
  ASSERT_EQ(b.policy().exec_start.size(), 1u);
  EXPECT_EQ(b.policy().exec_start[0].argv, (Strings{"/bin/sh", "-c", "a ; b"}));
}

TEST(Directives, ExecStartVariablesStayForLaunchTime) {
  auto b = build_text("[Service]\nExecStart=/bin/echo $HOME ${USER}\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().exec_start[0].argv, (Strings{"/bin/echo", "$HOME", "${USER}"}));
}

TEST(Directives, ExecStartPrefixErrorsHaveTheirLine) {
  expect_error_at(build_text("[Service]\n\nExecStart=+/bin/true\n"), 3, "less sandboxing");
  expect_error_at(build_text("[Service]\nExecStart=!!/bin/true\n"), 2, "'!!'");
  expect_error_at(build_text("[Service]\nExecStart=/bin/true ; /bin/false\n"), 2, "';'");
}

TEST(Directives, EmptyExecStartResetsTheCommandList) {
  auto b = build_text("[Service]\nExecStart=/bin/old\nExecStart=\nExecStart=/bin/new arg\n");
  EXPECT_CLEAN(b);
  ASSERT_EQ(b.policy().exec_start.size(), 1u);
  EXPECT_EQ(b.policy().exec_start[0].argv, (Strings{"/bin/new", "arg"}));
  EXPECT_EQ(effective(b, "ExecStart"), (Strings{"/bin/new arg"}));
}

TEST(Directives, MissingExecStartIsAnError) {
  auto b = build_text("[Unit]\nDescription=x\n[Service]\nUser=nobody\n");
  auto errors = b.errors();
  ASSERT_EQ(errors.size(), 1u) << b.dump();
  EXPECT_EQ(errors[0].origin.file, kFile);
  EXPECT_NE(errors[0].message.find("no ExecStart="), std::string::npos) << errors[0].str();
}

TEST(Directives, ResetExecStartWithoutNewOneIsMissing) {
  auto b = build_text("[Service]\nExecStart=/bin/true\nExecStart=\n");
  ASSERT_TRUE(b.diags.has_errors());
  EXPECT_NE(b.dump().find("no ExecStart="), std::string::npos) << b.dump();
}

TEST(Directives, SeveralExecStartNeedTypeOneshot) {
  auto b = build_text("[Service]\nExecStart=/bin/true\nUser=nobody\nExecStart=/bin/false\n");
  auto errors = b.errors();
  ASSERT_EQ(errors.size(), 1u) << b.dump();
  EXPECT_NE(errors[0].message.find("Type=oneshot"), std::string::npos) << errors[0].str();
  EXPECT_EQ(errors[0].origin.file, kFile);
  // Named at the line that made it several: the second ExecStart=.
  EXPECT_EQ(errors[0].origin.line, 4) << errors[0].str();
}

TEST(Directives, SeveralExecStartWithTypeOneshotAreRunInOrder) {
  auto b = build_text("[Service]\nExecStart=/bin/true\nExecStart=/bin/false\nType=oneshot\n");
  EXPECT_CLEAN(b);
  ASSERT_EQ(b.policy().exec_start.size(), 2u);
  EXPECT_EQ(b.policy().exec_start[0].argv[0], "/bin/true");
  EXPECT_EQ(b.policy().exec_start[1].argv[0], "/bin/false");
  EXPECT_EQ(b.policy().type, ServiceType::oneshot);
}

TEST(Directives, AllServiceTypes) {
  const std::pair<const char *, ServiceType> types[] = {{"simple", ServiceType::simple},
                                                        {"exec", ServiceType::exec},
                                                        {"forking", ServiceType::forking},
                                                        {"oneshot", ServiceType::oneshot},
                                                        {"notify", ServiceType::notify}};
  for (auto [name, type] : types) {
    auto b = build(std::string("Type=") + name + "\n");
    EXPECT_CLEAN(b);
    EXPECT_EQ(b.policy().type, type) << name;
  }
  expect_error(build("Type=dbus\n"), 3, "unsupported Type=dbus");
  expect_error(build("Type=daemon\n"), 3, "unsupported Type=daemon");
}

TEST(Directives, AdHocCommandNeedsNoExecStart) {
  Diagnostics diags;
  LoadedUnit unit;
  unit.name = *parse_unit_name("curl.service");
  auto built = build_policy(unit, {"/usr/bin/curl", "-s", "http://127.0.0.1/"}, diags);
  EXPECT_FALSE(diags.has_errors());
  ASSERT_EQ(built.policy.exec_start.size(), 1u);
  EXPECT_EQ(built.policy.exec_start[0].argv, (Strings{"/usr/bin/curl", "-s", "http://127.0.0.1/"}));
  EXPECT_EQ(built.policy.unit_name, "curl.service");
}

// ---- SystemCallFilter= ----

TEST(SystemCallFilter, AllowListIncludesDefaultGroup) {
  auto b = build("SystemCallFilter=read write\n");
  EXPECT_CLEAN(b);
  ASSERT_TRUE(b.policy().syscall_filter.has_value());
  const auto &f = *b.policy().syscall_filter;
  EXPECT_TRUE(f.allow_list);
  EXPECT_TRUE(has(f, "read"));
  EXPECT_TRUE(has(f, "write"));
  EXPECT_TRUE(has(f, "execve"));
  EXPECT_TRUE(has(f, "exit_group"));
  EXPECT_FALSE(has(f, "mount"));
  EXPECT_EQ(f.entries.action("read"), kDefaultAction);
}

TEST(SystemCallFilter, GroupsExpand) {
  auto b = build("SystemCallFilter=@system-service\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_TRUE(has(f, "read"));
  EXPECT_TRUE(has(f, "setuid"));
  EXPECT_TRUE(has(f, "chown"));
  EXPECT_FALSE(has(f, "reboot"));
  EXPECT_FALSE(has(f, "mount"));
}

TEST(SystemCallFilter, DeniedGroupAfterAllowListRemovesItsCalls) {
  auto b = build("SystemCallFilter=@system-service\nSystemCallFilter=~@privileged\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_TRUE(f.allow_list);
  EXPECT_FALSE(has(f, "setuid"));
  EXPECT_FALSE(has(f, "chown")); // through @privileged's nested @chown
  EXPECT_FALSE(has(f, "capset"));
  EXPECT_TRUE(has(f, "read"));
  EXPECT_TRUE(has(f, "execve"));
}

TEST(SystemCallFilter, FirstAssignmentFixesTheMode) {
  auto deny = build("SystemCallFilter=~mount\nSystemCallFilter=~reboot\n");
  EXPECT_CLEAN(deny);
  const auto &d = *deny.policy().syscall_filter;
  EXPECT_FALSE(d.allow_list);
  EXPECT_EQ(d.entries.size(), 2u);
  EXPECT_TRUE(has(d, "mount"));
  EXPECT_TRUE(has(d, "reboot"));
  EXPECT_FALSE(has(d, "execve")); // no implicit @default in a deny list
}

TEST(SystemCallFilter, AllowEntryAfterDenyListRemovesFromIt) {
  auto b = build("SystemCallFilter=~@mount\nSystemCallFilter=mount\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_FALSE(f.allow_list);
  EXPECT_FALSE(has(f, "mount"));
  EXPECT_TRUE(has(f, "umount2"));
}

TEST(SystemCallFilter, DenyEntryKeepsItsErrno) {
  auto b = build("SystemCallFilter=~mount:EBADF reboot:kill umount2\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_FALSE(f.allow_list);
  EXPECT_EQ(f.entries.action("mount"), EBADF);
  EXPECT_EQ(f.entries.action("reboot"), kKillAction);
  EXPECT_EQ(f.entries.action("umount2"), kDefaultAction);
}

TEST(SystemCallFilter, DenyGroupWithErrno) {
  auto b = build("SystemCallFilter=~@mount:EPERM\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_EQ(f.entries.action("mount"), EPERM);
  EXPECT_EQ(f.entries.action("umount2"), EPERM);
}

TEST(SystemCallFilter, DenyWithErrnoInsideAllowListDeniesWithThatErrno) {
  auto b = build("SystemCallFilter=@system-service\nSystemCallFilter=~read:EIO\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_TRUE(f.allow_list);
  ASSERT_TRUE(has(f, "read"));
  EXPECT_EQ(f.entries.action("read"), EIO);
}

TEST(SystemCallFilter, ErrnoOnAnAllowedCallIsAnError) {
  expect_error(build("SystemCallFilter=read:EPERM\n"), 3, "cannot take an error number");
}

TEST(SystemCallFilter, UnknownCallOrGroupIsAnError) {
  expect_error(build("SystemCallFilter=~mount notasyscall\n"), 3,
               "unknown system call 'notasyscall'");
  expect_error(build("SystemCallFilter=@nosuchgroup\n"), 3,
               "unknown system call group '@nosuchgroup'");
  expect_error(build("SystemCallFilter=~mount:ENOTANERRNO\n"), 3, "invalid error number");
}

TEST(SystemCallFilter, EmptyAssignmentResetsTheFilterAndItsMode) {
  auto gone = build("SystemCallFilter=read\nSystemCallFilter=\n");
  EXPECT_CLEAN(gone);
  EXPECT_FALSE(gone.policy().syscall_filter.has_value());
  auto b = build("SystemCallFilter=@system-service\nSystemCallFilter=\nSystemCallFilter=~mount\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_FALSE(f.allow_list);
  EXPECT_EQ(f.entries.size(), 1u);
  EXPECT_EQ(effective(b, "SystemCallFilter"), (Strings{"~mount"}));
}

// The benchmark's full policy, and a per-name errno and kill on top, against the fold spelled
// out one name at a time: what systemd 252 does with these lines.
TEST(SystemCallFilter, FoldOfGroupsAndNamesEqualsOneNameAtATime) {
  auto b = build("SystemCallFilter=@system-service\n"
                 "SystemCallFilter=~@privileged @resources\n"
                 "SystemCallFilter=~read:EIO open:kill brk:EIO\n"
                 "SystemCallFilter=setuid @default cachestat\n");
  EXPECT_CLEAN(b);
  std::map<std::string, int> expected;
  for (const char *group : {"@default", "@system-service"})
    for (std::string_view name : syscalls::expand_group(group))
      expected[std::string(name)] = kDefaultAction;
  for (const char *group : {"@privileged", "@resources"})
    for (std::string_view name : syscalls::expand_group(group))
      expected.erase(std::string(name));
  expected["read"] = EIO;
  expected["open"] = kKillAction;
  expected["brk"] = EIO; // until @default allows it again
  for (std::string_view name : syscalls::expand_group("@default"))
    expected[std::string(name)] = kDefaultAction;
  expected["setuid"] = kDefaultAction;
  expected["cachestat"] = kDefaultAction; // libseccomp's, in no group of systemd 252
  const auto &f = *b.policy().syscall_filter;
  EXPECT_TRUE(f.allow_list);
  EXPECT_EQ(std::vector<SyscallEntries::value_type>(f.entries.begin(), f.entries.end()),
            std::vector<SyscallEntries::value_type>(expected.begin(), expected.end()));
  EXPECT_EQ(f.named_explicitly, (std::set<std::string>{"brk", "cachestat", "open", "read", "setuid"}));
}

// A name no group lists (libseccomp knows it; systemd 252's table does not) folds in and out
// in its place among the others.
TEST(SystemCallFilter, NameInNoGroupTakesItsPlaceInOrder) {
  auto b = build("SystemCallFilter=~capget cachestat:EIO cacheflush\n");
  EXPECT_CLEAN(b);
  const auto &f = *b.policy().syscall_filter;
  EXPECT_EQ(std::vector<SyscallEntries::value_type>(f.entries.begin(), f.entries.end()),
            (std::vector<SyscallEntries::value_type>{
                {"cacheflush", kDefaultAction}, {"cachestat", EIO}, {"capget", kDefaultAction}}));
  auto removed = build("SystemCallFilter=~@system-service cachestat\nSystemCallFilter=cachestat\n");
  EXPECT_CLEAN(removed);
  EXPECT_FALSE(has(*removed.policy().syscall_filter, "cachestat"));
  EXPECT_TRUE(has(*removed.policy().syscall_filter, "read"));
}

TEST(SystemCallFilter, RemembersNamesWrittenExplicitly) {
  auto b = build("SystemCallFilter=@basic-io ioctl\n");
  const auto &f = *b.policy().syscall_filter;
  EXPECT_TRUE(f.named_explicitly.count("ioctl"));
  EXPECT_FALSE(f.named_explicitly.count("read"));
}

TEST(SystemCallErrorNumber, NamesNumbersAndKill) {
  EXPECT_EQ(build("SystemCallErrorNumber=EPERM\n").policy().syscall_error_number, EPERM);
  EXPECT_EQ(build("SystemCallErrorNumber=eacces\n").policy().syscall_error_number, EACCES);
  EXPECT_EQ(build("SystemCallErrorNumber=38\n").policy().syscall_error_number, 38);
  EXPECT_EQ(build("SystemCallErrorNumber=4095\n").policy().syscall_error_number, 4095);
  EXPECT_FALSE(build("SystemCallErrorNumber=kill\n").policy().syscall_error_number.has_value());
  EXPECT_FALSE(build("SystemCallErrorNumber=EPERM\nSystemCallErrorNumber=\n")
                   .policy()
                   .syscall_error_number.has_value());
  EXPECT_FALSE(build("").policy().syscall_error_number.has_value()); // kill by default
}

TEST(SystemCallErrorNumber, InvalidValuesAreErrors) {
  for (const char *bad : {"EWHAT", "0", "4096", "-1", "log", "+5"})
    expect_error(build(std::string("SystemCallErrorNumber=") + bad + "\n"), 3,
                 "invalid SystemCallErrorNumber=");
}

TEST(SystemCallArchitectures, NativeAndNamedArchitectures) {
  auto b = build("SystemCallArchitectures=native\nSystemCallArchitectures=x86-64 native\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().syscall_architectures, (Strings{"native", "x86-64"}));
  expect_error(build("SystemCallArchitectures=sparc\n"), 3, "unknown architecture 'sparc'");
  EXPECT_TRUE(build("SystemCallArchitectures=native\nSystemCallArchitectures=\n")
                  .policy()
                  .syscall_architectures.empty());
}

// Lists split at any run of C-locale whitespace, as `istream >> word` did.
TEST(SystemCallArchitectures, WordsSplitAtAnyWhitespace) {
  auto b = build("SystemCallArchitectures=x86\t x86-64 \v\fx32\t\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().syscall_architectures, (Strings{"x86", "x86-64", "x32"}));
  auto lone = build("SystemCallArchitectures=\tnative\t\n");
  EXPECT_CLEAN(lone);
  EXPECT_EQ(lone.policy().syscall_architectures, (Strings{"native"}));
}

TEST(SystemCallLog, AllowAndDenyForms) {
  auto b = build("SystemCallLog=@mount reboot\n");
  EXPECT_CLEAN(b);
  ASSERT_TRUE(b.policy().syscall_log.has_value());
  EXPECT_TRUE(b.policy().syscall_log->allow_list);
  EXPECT_TRUE(b.policy().syscall_log->names.count("mount"));
  EXPECT_TRUE(b.policy().syscall_log->names.count("reboot"));
  auto d = build("SystemCallLog=~read\n");
  EXPECT_FALSE(d.policy().syscall_log->allow_list);
  EXPECT_TRUE(d.policy().syscall_log->names.count("read"));
  expect_error(build("SystemCallLog=nope_call\n"), 3, "unknown system call");
}

// ---- capabilities ----

TEST(Capabilities, FirstAssignmentReplacesTheFullSet) {
  auto b = build("CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().capability_bounding_set, cap(CAP_NET_ADMIN) | cap(CAP_NET_RAW));
}

TEST(Capabilities, UnsetBoundingSetMeansUnchanged) {
  EXPECT_FALSE(build("").policy().capability_bounding_set.has_value());
}

TEST(Capabilities, LaterAssignmentsAreOred) {
  auto b = build("CapabilityBoundingSet=CAP_NET_ADMIN\nCapabilityBoundingSet=CAP_CHOWN\n");
  EXPECT_EQ(b.policy().capability_bounding_set, cap(CAP_NET_ADMIN) | cap(CAP_CHOWN));
}

TEST(Capabilities, LaterInvertedAssignmentRemoves) {
  auto b = build("CapabilityBoundingSet=CAP_NET_ADMIN CAP_CHOWN\nCapabilityBoundingSet=~CAP_CHOWN\n");
  EXPECT_EQ(b.policy().capability_bounding_set, cap(CAP_NET_ADMIN));
}

TEST(Capabilities, FirstInvertedAssignmentIsAllButThose) {
  auto b = build("CapabilityBoundingSet=~CAP_SYS_ADMIN CAP_SYS_MODULE\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().capability_bounding_set,
            all_caps() & ~cap(CAP_SYS_ADMIN) & ~cap(CAP_SYS_MODULE));
}

TEST(Capabilities, EmptyAssignmentReplacesWithTheEmptySet) {
  auto b = build("CapabilityBoundingSet=CAP_NET_ADMIN\nCapabilityBoundingSet=\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().capability_bounding_set, 0u);
  // An empty set is a setting (no capabilities at all), so `show` keeps the line.
  EXPECT_EQ(effective(b, "CapabilityBoundingSet"), (Strings{""}));
  auto c = build("CapabilityBoundingSet=CAP_NET_ADMIN\nCapabilityBoundingSet=\n"
                 "CapabilityBoundingSet=CAP_CHOWN\n");
  EXPECT_EQ(c.policy().capability_bounding_set, cap(CAP_CHOWN));
}

TEST(Capabilities, LoneTildeReplacesWithTheFullSet) {
  auto b = build("CapabilityBoundingSet=CAP_CHOWN\nCapabilityBoundingSet=~\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().capability_bounding_set, all_caps());
}

TEST(Capabilities, NamesAreCaseInsensitive) {
  EXPECT_EQ(build("CapabilityBoundingSet=cap_chown\n").policy().capability_bounding_set,
            cap(CAP_CHOWN));
}

TEST(Capabilities, UnknownCapabilityIsAnError) {
  expect_error(build("CapabilityBoundingSet=CAP_CHOWN CAP_FLY\n"), 3, "unknown capability 'CAP_FLY'");
  expect_error(build("AmbientCapabilities=NET_ADMIN\n"), 3, "unknown capability");
}

TEST(Capabilities, AmbientFollowsTheSameRules) {
  auto b = build("AmbientCapabilities=CAP_NET_BIND_SERVICE\nAmbientCapabilities=CAP_NET_RAW\n");
  EXPECT_EQ(b.policy().ambient_capabilities, cap(CAP_NET_BIND_SERVICE) | cap(CAP_NET_RAW));
  auto r = build("AmbientCapabilities=CAP_NET_BIND_SERVICE\nAmbientCapabilities=\n");
  EXPECT_EQ(r.policy().ambient_capabilities, 0u);
  auto i = build("AmbientCapabilities=CAP_NET_BIND_SERVICE CAP_NET_RAW\nAmbientCapabilities=~CAP_NET_RAW\n");
  EXPECT_EQ(i.policy().ambient_capabilities, cap(CAP_NET_BIND_SERVICE));
}

// ---- RestrictAddressFamilies= ----

TEST(RestrictAddressFamilies, AllowList) {
  auto b = build("RestrictAddressFamilies=AF_INET AF_INET6\nRestrictAddressFamilies=AF_UNIX\n");
  EXPECT_CLEAN(b);
  ASSERT_TRUE(b.policy().restrict_address_families.has_value());
  EXPECT_TRUE(b.policy().restrict_address_families->allow_list);
  EXPECT_EQ(b.policy().restrict_address_families->families,
            (std::vector<int>{AF_UNIX, AF_INET, AF_INET6}));
}

TEST(RestrictAddressFamilies, DenyList) {
  auto b = build("RestrictAddressFamilies=~AF_PACKET\nRestrictAddressFamilies=~AF_NETLINK\n");
  EXPECT_CLEAN(b);
  EXPECT_FALSE(b.policy().restrict_address_families->allow_list);
  EXPECT_EQ(b.policy().restrict_address_families->families,
            (std::vector<int>{AF_NETLINK, AF_PACKET}));
}

TEST(RestrictAddressFamilies, InvertedEntryAfterAllowListRemoves) {
  auto b = build("RestrictAddressFamilies=AF_INET AF_INET6\nRestrictAddressFamilies=~AF_INET6\n");
  EXPECT_TRUE(b.policy().restrict_address_families->allow_list);
  EXPECT_EQ(b.policy().restrict_address_families->families, (std::vector<int>{AF_INET}));
  auto d = build("RestrictAddressFamilies=~AF_PACKET AF_INET\nRestrictAddressFamilies=AF_INET\n");
  EXPECT_FALSE(d.policy().restrict_address_families->allow_list);
  EXPECT_EQ(d.policy().restrict_address_families->families, (std::vector<int>{AF_PACKET}));
}

TEST(RestrictAddressFamilies, NoneAllowsNothing) {
  auto b = build("RestrictAddressFamilies=AF_INET\nRestrictAddressFamilies=none\n");
  EXPECT_CLEAN(b);
  ASSERT_TRUE(b.policy().restrict_address_families.has_value());
  EXPECT_TRUE(b.policy().restrict_address_families->allow_list);
  EXPECT_TRUE(b.policy().restrict_address_families->families.empty());
  auto a = build("RestrictAddressFamilies=none\nRestrictAddressFamilies=AF_UNIX\n");
  EXPECT_TRUE(a.policy().restrict_address_families->allow_list);
  EXPECT_EQ(a.policy().restrict_address_families->families, (std::vector<int>{AF_UNIX}));
}

TEST(RestrictAddressFamilies, EmptyResetsAndUnknownIsAnError) {
  auto b = build("RestrictAddressFamilies=AF_INET\nRestrictAddressFamilies=\n");
  EXPECT_FALSE(b.policy().restrict_address_families.has_value());
  expect_error(build("RestrictAddressFamilies=AF_INET AF_BOGUS\n"), 3,
               "unknown address family 'AF_BOGUS'");
}

// ---- RestrictNamespaces= ----

TEST(RestrictNamespaces, YesAllowsNoneNoAllowsAll) {
  auto yes = build("RestrictNamespaces=yes\n");
  EXPECT_CLEAN(yes);
  ASSERT_TRUE(yes.policy().restrict_namespaces.has_value());
  EXPECT_EQ(yes.policy().restrict_namespaces->allowed, 0u);
  auto no = build("RestrictNamespaces=yes\nRestrictNamespaces=no\n");
  EXPECT_TRUE(!no.policy().restrict_namespaces.has_value() ||
              no.policy().restrict_namespaces->allowed == names::all_namespace_flags());
}

TEST(RestrictNamespaces, ListAllowsOnlyThose) {
  auto b = build("RestrictNamespaces=net ipc\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().restrict_namespaces->allowed,
            static_cast<std::uint64_t>(CLONE_NEWNET | CLONE_NEWIPC));
  auto m = build("RestrictNamespaces=mnt\n");
  EXPECT_EQ(m.policy().restrict_namespaces->allowed, static_cast<std::uint64_t>(CLONE_NEWNS));
}

TEST(RestrictNamespaces, InvertedListAllowsAllButThose) {
  auto b = build("RestrictNamespaces=~user net\n");
  EXPECT_EQ(b.policy().restrict_namespaces->allowed,
            names::all_namespace_flags() & ~static_cast<std::uint64_t>(CLONE_NEWUSER | CLONE_NEWNET));
}

TEST(RestrictNamespaces, LaterListsMerge) {
  auto b = build("RestrictNamespaces=net\nRestrictNamespaces=ipc\nRestrictNamespaces=~net\n");
  EXPECT_EQ(b.policy().restrict_namespaces->allowed, static_cast<std::uint64_t>(CLONE_NEWIPC));
  auto y = build("RestrictNamespaces=yes\nRestrictNamespaces=uts\n");
  EXPECT_EQ(y.policy().restrict_namespaces->allowed, static_cast<std::uint64_t>(CLONE_NEWUTS));
}

// systemd: "no" sets every type allowed, and a later list merges into that.
TEST(RestrictNamespaces, ListAfterNoMergesIntoAllAllowed) {
  auto b = build("RestrictNamespaces=no\nRestrictNamespaces=net\n");
  EXPECT_CLEAN(b);
  std::uint64_t allowed = b.policy().restrict_namespaces
                              ? b.policy().restrict_namespaces->allowed
                              : names::all_namespace_flags();
  EXPECT_EQ(allowed, names::all_namespace_flags());
  auto d = build("RestrictNamespaces=no\nRestrictNamespaces=~net\n");
  EXPECT_EQ(d.policy().restrict_namespaces->allowed,
            names::all_namespace_flags() & ~static_cast<std::uint64_t>(CLONE_NEWNET));
}

TEST(RestrictNamespaces, EmptyResetsAndUnknownIsAnError) {
  EXPECT_FALSE(build("RestrictNamespaces=yes\nRestrictNamespaces=\n")
                   .policy()
                   .restrict_namespaces.has_value());
  expect_error(build("RestrictNamespaces=net bogus\n"), 3, "unknown namespace type 'bogus'");
  expect_error(build("RestrictNamespaces=NET\n"), 3, "unknown namespace type");
}

// ---- simple values ----

TEST(Directives, NoNewPrivilegesNoIsAnError) {
  EXPECT_CLEAN(build("NoNewPrivileges=yes\n"));
  EXPECT_CLEAN(build("NoNewPrivileges=true\n"));
  expect_error(build("NoNewPrivileges=no\n"), 3, "NoNewPrivileges=no");
  expect_error(build("NoNewPrivileges=false\n"), 3, "NoNewPrivileges=no");
  expect_error(build("NoNewPrivileges=perhaps\n"), 3, "invalid boolean");
}

TEST(Directives, UMaskIsOctal) {
  EXPECT_EQ(build("UMask=0027\n").policy().umask.value_or(01000), 027u);
  EXPECT_EQ(build("UMask=077\n").policy().umask.value_or(01000), 077u);
  EXPECT_EQ(build("UMask=0\n").policy().umask.value_or(01000), 0u);
  EXPECT_EQ(build("UMask=0777\n").policy().umask.value_or(01000), 0777u);
  for (const char *bad : {"0800", "01000", "abc", "22a", "-022", "0x12"})
    expect_error(build(std::string("UMask=") + bad + "\n"), 3, "invalid UMask=");
}

TEST(Directives, BooleansAcceptSystemdSpellings) {
  for (const char *t : {"yes", "YES", "y", "true", "t", "on", "1"}) {
    auto b = build(std::string("LockPersonality=") + t + "\n");
    EXPECT_CLEAN(b);
    EXPECT_TRUE(b.policy().lock_personality) << t;
  }
  for (const char *f : {"no", "n", "false", "f", "off", "0"}) {
    auto b = build(std::string("LockPersonality=yes\nLockPersonality=") + f + "\n");
    EXPECT_CLEAN(b);
    EXPECT_FALSE(b.policy().lock_personality) << f;
  }
}

TEST(Directives, BooleanDirectivesSetTheirFields) {
  auto b = build("MemoryDenyWriteExecute=yes\nRestrictRealtime=yes\nRestrictSUIDSGID=yes\n"
                 "IPAccounting=yes\nAllowUnfilteredInheritedSockets=yes\nLockPersonality=yes\n");
  EXPECT_CLEAN(b);
  const auto &p = b.policy();
  EXPECT_TRUE(p.memory_deny_write_execute);
  EXPECT_TRUE(p.restrict_realtime);
  EXPECT_TRUE(p.restrict_suid_sgid);
  EXPECT_TRUE(p.ip_accounting);
  EXPECT_TRUE(p.allow_unfiltered_inherited_sockets);
  EXPECT_TRUE(p.lock_personality);
  EXPECT_TRUE(p.has_seccomp());
}

TEST(Directives, InvalidBooleanIsAnError) {
  for (const char *key : {"LockPersonality", "MemoryDenyWriteExecute", "RestrictRealtime",
                          "RestrictSUIDSGID", "IPAccounting", "AllowUnfilteredInheritedSockets"})
    expect_error(build(std::string(key) + "=maybe\n"), 3, "invalid boolean 'maybe'");
}

TEST(Directives, UserAndGroupNameSyntax) {
  for (const char *ok : {"www-data", "_apt", "nobody", "user.name", "svc$", "1000", "0", "root"}) {
    auto b = build(std::string("User=") + ok + "\nGroup=" + ok + "\n");
    EXPECT_CLEAN(b);
    EXPECT_EQ(b.policy().user.value_or(""), ok);
    EXPECT_EQ(b.policy().group.value_or(""), ok);
  }
  for (const char *bad : {"-bad", "bad name", "a:b", "a/b", "1abc", "65535", "4294967295",
                          "sv$c", "abcdefghijklmnopqrstuvwxyz0123456"})
    expect_error(build(std::string("User=") + bad + "\n"), 3, "invalid user or group name");
  expect_error(build("Group=-x\n"), 3, "invalid user or group name");
}

TEST(Directives, UserSpecifierIsExpanded) {
  auto b = build("User=%p\n");
  EXPECT_CLEAN(b);
  EXPECT_EQ(b.policy().user.value_or(""), "t");
}

TEST(Directives, WorkingDirectorySyntax) {
  auto b = build("WorkingDirectory=/srv/web\n");
  EXPECT_EQ(b.policy().working_directory.value_or(""), "/srv/web");
  EXPECT_FALSE(b.policy().working_directory_optional);
  auto h = build("WorkingDirectory=~\n");
  EXPECT_EQ(h.policy().working_directory.value_or(""), "~");
  auto o = build("WorkingDirectory=-/maybe\n");
  EXPECT_EQ(o.policy().working_directory.value_or(""), "/maybe");
  EXPECT_TRUE(o.policy().working_directory_optional);
  expect_error(build("WorkingDirectory=srv\n"), 3, "absolute path");
}

TEST(Directives, ResourceLimitSyntax) {
  auto b = build("MemoryMax=512M\nMemoryHigh=40%\nMemorySwapMax=infinity\nTasksMax=64\n"
                 "CPUQuota=150%\nCPUWeight=idle\nIOWeight=500\n");
  EXPECT_CLEAN(b);
  const auto &l = b.policy().limits;
  EXPECT_EQ(l.memory_max.value_or(""), "512M");
  EXPECT_EQ(l.memory_high.value_or(""), "40%");
  EXPECT_EQ(l.memory_swap_max.value_or(""), "infinity");
  EXPECT_EQ(l.tasks_max.value_or(""), "64");
  EXPECT_EQ(l.cpu_quota.value_or(""), "150%");
  EXPECT_EQ(l.cpu_weight.value_or(""), "idle");
  EXPECT_EQ(l.io_weight.value_or(""), "500");
  EXPECT_CLEAN(build("MemoryMax=1073741824\nTasksMax=10%\nTasksMax=infinity\nCPUWeight=10000\n"));
}

TEST(Directives, ResourceLimitEmptyResets) {
  auto b = build("MemoryMax=1G\nMemoryMax=\nTasksMax=5\nTasksMax=\n");
  EXPECT_CLEAN(b);
  EXPECT_FALSE(b.policy().limits.memory_max.has_value());
  EXPECT_FALSE(b.policy().limits.tasks_max.has_value());
}

TEST(Directives, InvalidResourceLimitsAreErrors) {
  expect_error(build("MemoryMax=lots\n"), 3, "invalid size 'lots'");
  expect_error(build("MemoryMax=101%\n"), 3, "invalid size");
  expect_error(build("MemoryHigh=-1\n"), 3, "invalid size");
  expect_error(build("TasksMax=many\n"), 3, "invalid TasksMax=");
  expect_error(build("CPUQuota=20\n"), 3, "invalid CPUQuota=");
  expect_error(build("CPUQuota=0%\n"), 3, "invalid CPUQuota=");
  expect_error(build("CPUWeight=0\n"), 3, "invalid weight");
  expect_error(build("CPUWeight=10001\n"), 3, "invalid weight");
  expect_error(build("IOWeight=idle\n"), 3, "invalid weight");
}

TEST(Directives, AuditTrail) {
  EXPECT_EQ(build("").policy().audit_trail, AuditTrail::required);
  EXPECT_EQ(build("AuditTrail=best-effort\n").policy().audit_trail, AuditTrail::best_effort);
  EXPECT_EQ(build("AuditTrail=best-effort\nAuditTrail=required\n").policy().audit_trail,
            AuditTrail::required);
  EXPECT_EQ(build("AuditTrail=best-effort\nAuditTrail=\n").policy().audit_trail,
            AuditTrail::required);
  expect_error(build("AuditTrail=sometimes\n"), 3, "invalid AuditTrail=");
}

// ---- what ringfence does with other directives ----

TEST(Directives, UnknownDirectiveIsAnError) {
  expect_error(build("Bogus=1\n"), 3, "unknown directive Bogus= in [Service]");
  expect_error(build_text("[Unit]\nFoo=bar\n[Service]\nExecStart=/bin/true\n"), 2,
               "unknown directive Foo= in [Unit]");
}

TEST(Directives, DirectiveInTheWrongSectionIsUnknown) {
  expect_error(build_text("[Unit]\nUser=nobody\n[Service]\nExecStart=/bin/true\n"), 2,
               "unknown directive User= in [Unit]");
  expect_error(build_text("[Install]\nIPAddressDeny=any\n[Service]\nExecStart=/bin/true\n"), 2,
               "in [Install]");
}

TEST(Directives, UnknownSectionIsReported) {
  auto b = build_text("[Service]\nExecStart=/bin/true\n[Servcie]\nUser=nobody\n");
  auto errors = b.errors();
  ASSERT_EQ(errors.size(), 1u) << b.dump();
  EXPECT_EQ(errors[0].origin.line, 4);
}

TEST(Directives, DirectivesWithoutProtectionAreIgnoredSilently) {
  auto b = build_text("[Unit]\nDescription=web\nAfter=network.target\nWants=x.service\n"
                      "ConditionPathExists=/etc\nDocumentation=man:web(8)\n"
                      "[Service]\nExecStart=/bin/true\nRestart=on-failure\nRestartSec=5\n"
                      "TimeoutStopSec=10\nStandardOutput=journal\n"
                      "[Install]\nWantedBy=multi-user.target\nAlias=w.service\n");
  EXPECT_TRUE(b.diags.items().empty()) << b.dump();
  EXPECT_EQ(classify_directive("Unit", "Description"), DirectiveClass::ignored);
  EXPECT_EQ(classify_directive("Install", "WantedBy"), DirectiveClass::ignored);
}

TEST(Directives, ExtensionKeysAndSectionsAreIgnoredAsSystemdDoes) {
  auto b = build_text("[Unit]\nX-Origin=vendor\n[Service]\nExecStart=/bin/true\nX-Tool-Setting=1\n"
                      "[X-Custom]\nAnything=goes\n");
  EXPECT_TRUE(b.diags.items().empty()) << b.dump();
}

TEST(Directives, UnenforcedProtectionIsAnError) {
  auto b = build("ProtectSystem=strict\n");
  expect_error(b, 3, "ProtectSystem=");
  EXPECT_NE(b.errors()[0].message.find("does not enforce"), std::string::npos);
  ASSERT_EQ(b.policy().unenforced.size(), 1u);
  EXPECT_EQ(b.policy().unenforced[0].first, "ProtectSystem");
  EXPECT_EQ(b.policy().unenforced[0].second.line, 3);
  for (const char *key : {"PrivateTmp=yes", "ReadOnlyPaths=/etc", "PrivateNetwork=yes",
                          "ProtectHome=yes", "LimitNOFILE=1024"})
    expect_error(build(std::string(key) + "\n"), 3, "does not enforce");
  EXPECT_EQ(classify_directive("Service", "ProtectSystem"), DirectiveClass::unenforced);
}

TEST(Directives, UnsupportedBehaviourIsAWarning) {
  auto b = build("ExecStartPre=/bin/true\nExecReload=/bin/kill -HUP $MAINPID\n");
  EXPECT_CLEAN(b);
  auto warnings = b.warnings();
  ASSERT_EQ(warnings.size(), 2u) << b.dump();
  EXPECT_EQ(warnings[0].origin.line, 3);
  EXPECT_NE(warnings[0].message.find("ExecStartPre="), std::string::npos);
  EXPECT_NE(warnings[0].str().find("t.service:3: warning: "), std::string::npos);
  EXPECT_EQ(classify_directive("Service", "ExecStartPre"), DirectiveClass::unsupported);
}

TEST(Directives, ClassifyDirective) {
  EXPECT_EQ(classify_directive("Service", "ExecStart"), DirectiveClass::enforced);
  EXPECT_EQ(classify_directive("Service", "IPAddressDeny"), DirectiveClass::enforced);
  EXPECT_EQ(classify_directive("Service", "Policy"), DirectiveClass::enforced);
  EXPECT_EQ(classify_directive("Service", "AuditTrail"), DirectiveClass::enforced);
  EXPECT_EQ(classify_directive("Service", "Bogus"), DirectiveClass::unknown);
  EXPECT_EQ(classify_directive("Unit", "ExecStart"), DirectiveClass::unknown);
  EXPECT_EQ(classify_directive("Service", "Description"), DirectiveClass::unknown);
}

// ---- policy fragments ----

TEST(Directives, PolicyFragmentMayNotSetExecStartOrUser) {
  Diagnostics diags;
  LoadedUnit unit;
  unit.name = *parse_unit_name("t.service");
  unit.fragment = kFile;
  unit.policies = {"frag.policy"};
  unit.assignments = parse_ini("[Service]\nExecStart=/bin/true\n", kFile, diags);
  for (auto &a : parse_ini("[Service]\nIPAddressDeny=any\nExecStart=/bin/evil\nUser=root\n",
                           "frag.policy", diags))
    unit.assignments.push_back(a);
  auto built = build_policy(unit, {}, diags);
  std::vector<Diagnostic> errors;
  for (const auto &d : diags.items())
    if (d.severity == Diagnostic::Severity::error)
      errors.push_back(d);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].origin.str(), "frag.policy:3");
  EXPECT_NE(errors[0].message.find("ExecStart= is not a sandbox directive"), std::string::npos)
      << errors[0].str();
  EXPECT_EQ(errors[1].origin.str(), "frag.policy:4");
  ASSERT_EQ(built.policy.exec_start.size(), 1u);
  EXPECT_EQ(built.policy.exec_start[0].argv[0], "/bin/true");
  EXPECT_FALSE(built.policy.user.has_value());
  EXPECT_EQ(prefixes(built.policy.ip_deny), (Strings{"0.0.0.0/0", "::/0"}));
}
