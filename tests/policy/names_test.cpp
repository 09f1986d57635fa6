#include "policy/names.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <linux/capability.h>
#include <sched.h>
#include <set>
#include <string>
#include <sys/socket.h>

namespace names = rf::names;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace

TEST(Names, ErrnoKnownValues) {
  EXPECT_EQ(names::errno_from_name("EPERM"), 1);
  EXPECT_EQ(names::errno_from_name("EACCES"), EACCES);
  EXPECT_EQ(names::errno_from_name("ENOSYS"), ENOSYS);
  EXPECT_EQ(names::errno_from_name("EHWPOISON"), EHWPOISON);
  EXPECT_EQ(names::errno_name(EPERM), "EPERM");
  EXPECT_EQ(names::errno_name(EAFNOSUPPORT), "EAFNOSUPPORT");
}

TEST(Names, ErrnoAliasesResolveButPrintCanonical) {
  EXPECT_EQ(names::errno_from_name("EWOULDBLOCK"), EAGAIN);
  EXPECT_EQ(names::errno_from_name("EDEADLOCK"), EDEADLK);
  EXPECT_EQ(names::errno_from_name("ENOTSUP"), EOPNOTSUPP);
  EXPECT_EQ(names::errno_name(EAGAIN), "EAGAIN");
  EXPECT_EQ(names::errno_name(EDEADLK), "EDEADLK");
  EXPECT_EQ(names::errno_name(EOPNOTSUPP), "EOPNOTSUPP");
}

TEST(Names, ErrnoRoundTripsEveryNumberWithAName) {
  int named = 0;
  for (int err = 1; err <= names::kErrnoMax; ++err) {
    std::string_view name = names::errno_name(err);
    if (name.empty())
      continue;
    ++named;
    EXPECT_EQ(names::errno_from_name(name), err) << name;
  }
  // 1..133 minus the two holes Linux leaves (41, 58).
  EXPECT_EQ(named, 131);
  EXPECT_EQ(names::errno_name(41), "");
  EXPECT_EQ(names::errno_name(0), "");
  EXPECT_EQ(names::errno_name(-1), "");
  EXPECT_EQ(names::errno_name(4095), "");
}

TEST(Names, ErrnoNamesIgnoreCaseLikeSystemd) {
  EXPECT_EQ(names::errno_from_name("eperm"), EPERM);
  EXPECT_EQ(names::errno_from_name("ECONNrefused"), ECONNREFUSED);
}

TEST(Names, ErrnoRejectsUnknownNames) {
  EXPECT_FALSE(names::errno_from_name(""));
  EXPECT_FALSE(names::errno_from_name("EFOO"));
  EXPECT_FALSE(names::errno_from_name("PERM"));
  EXPECT_FALSE(names::errno_from_name("EPERM "));
  EXPECT_FALSE(names::errno_from_name("1")); // numbers only through parse_errno()
}

TEST(Names, ParseErrnoAcceptsNamesAndNumbers1To4095) {
  EXPECT_EQ(names::parse_errno("EPERM"), EPERM);
  EXPECT_EQ(names::parse_errno("eacces"), EACCES);
  EXPECT_EQ(names::parse_errno("1"), 1);
  EXPECT_EQ(names::parse_errno("38"), 38);
  EXPECT_EQ(names::parse_errno("4095"), 4095);
  EXPECT_EQ(names::parse_errno("0042"), 42);
  EXPECT_EQ(names::parse_errno("200"), 200); // unnamed but in range, as systemd allows
}

TEST(Names, ParseErrnoRejectsOutOfRangeAndJunk) {
  EXPECT_FALSE(names::parse_errno("0"));
  EXPECT_FALSE(names::parse_errno("4096"));
  EXPECT_FALSE(names::parse_errno("-1"));
  EXPECT_FALSE(names::parse_errno("+1"));
  EXPECT_FALSE(names::parse_errno(" 1"));
  EXPECT_FALSE(names::parse_errno("1 "));
  EXPECT_FALSE(names::parse_errno("0x10"));
  EXPECT_FALSE(names::parse_errno("99999999999999999999"));
  EXPECT_FALSE(names::parse_errno(""));
  EXPECT_FALSE(names::parse_errno("kill")); // the caller handles "kill"
  EXPECT_FALSE(names::parse_errno("EFOO"));
}

TEST(Names, CapabilityLastMatchesHeaders) {
  EXPECT_EQ(names::capability_last(), CAP_LAST_CAP);
  EXPECT_EQ(names::capability_last(), 40);
  EXPECT_EQ(names::capability_name(40), "CAP_CHECKPOINT_RESTORE");
  EXPECT_EQ(names::capability_name(CAP_NET_ADMIN), "CAP_NET_ADMIN");
  EXPECT_EQ(names::capability_name(CAP_BPF), "CAP_BPF");
  EXPECT_EQ(names::capability_name(41), "");
  EXPECT_EQ(names::capability_name(-1), "");
}

TEST(Names, CapabilityRoundTripsEveryCap) {
  std::set<std::string_view> seen;
  for (int cap = 0; cap <= names::capability_last(); ++cap) {
    std::string_view name = names::capability_name(cap);
    ASSERT_FALSE(name.empty()) << cap;
    EXPECT_TRUE(name.starts_with("CAP_")) << name;
    EXPECT_TRUE(seen.insert(name).second) << "duplicate " << name;
    EXPECT_EQ(names::capability_from_name(name), cap) << name;
    EXPECT_EQ(names::capability_from_name(lower(name)), cap) << name;
  }
}

TEST(Names, CapabilityIgnoresCaseButNeedsPrefix) {
  EXPECT_EQ(names::capability_from_name("CAP_NET_ADMIN"), CAP_NET_ADMIN);
  EXPECT_EQ(names::capability_from_name("cap_net_admin"), CAP_NET_ADMIN);
  EXPECT_EQ(names::capability_from_name("Cap_Sys_Admin"), CAP_SYS_ADMIN);
  EXPECT_FALSE(names::capability_from_name("NET_ADMIN"));
  EXPECT_FALSE(names::capability_from_name("net_admin"));
  EXPECT_FALSE(names::capability_from_name("12")); // names only
  EXPECT_FALSE(names::capability_from_name("CAP_NO_SUCH"));
  EXPECT_FALSE(names::capability_from_name("CAP_LAST_CAP")); // a limit, not a capability
  EXPECT_FALSE(names::capability_from_name(""));
}

TEST(Names, AddressFamilyKnownValues) {
  EXPECT_EQ(names::address_family_from_name("AF_INET"), 2);
  EXPECT_EQ(names::address_family_from_name("AF_INET6"), AF_INET6);
  EXPECT_EQ(names::address_family_from_name("AF_UNIX"), AF_UNIX);
  EXPECT_EQ(names::address_family_from_name("AF_NETLINK"), AF_NETLINK);
  EXPECT_EQ(names::address_family_from_name("AF_PACKET"), AF_PACKET);
  EXPECT_EQ(names::address_family_from_name("AF_VSOCK"), AF_VSOCK);
  EXPECT_EQ(names::address_family_from_name("AF_XDP"), AF_XDP);
  EXPECT_EQ(names::address_family_from_name("AF_MCTP"), AF_MCTP);
  EXPECT_EQ(names::address_family_name(AF_INET), "AF_INET");
  EXPECT_EQ(names::address_family_name(AF_DECnet), "AF_DECnet");
}

TEST(Names, AddressFamilyAliasesPrintCanonical) {
  EXPECT_EQ(names::address_family_from_name("AF_LOCAL"), AF_UNIX);
  EXPECT_EQ(names::address_family_from_name("AF_FILE"), AF_UNIX);
  EXPECT_EQ(names::address_family_from_name("AF_ROUTE"), AF_NETLINK);
  EXPECT_EQ(names::address_family_name(AF_UNIX), "AF_UNIX");
  EXPECT_EQ(names::address_family_name(AF_NETLINK), "AF_NETLINK");
}

TEST(Names, AddressFamilyRoundTripsAndIgnoresCase) {
  int named = 0;
  for (int family = 0; family < AF_MAX; ++family) {
    std::string_view name = names::address_family_name(family);
    if (name.empty())
      continue;
    ++named;
    EXPECT_EQ(names::address_family_from_name(name), family) << name;
    EXPECT_EQ(names::address_family_from_name(lower(name)), family) << name;
  }
  EXPECT_GE(named, 40);
  EXPECT_EQ(names::address_family_from_name("af_inet"), AF_INET);
  EXPECT_EQ(names::address_family_from_name("AF_decnet"), AF_DECnet);
}

TEST(Names, AddressFamilyRejectsUnspecMaxAndUnknown) {
  // systemd's af-list leaves these out: neither is a family a socket can have.
  EXPECT_FALSE(names::address_family_from_name("AF_UNSPEC"));
  EXPECT_FALSE(names::address_family_from_name("AF_MAX"));
  EXPECT_FALSE(names::address_family_from_name("INET"));
  EXPECT_FALSE(names::address_family_from_name("PF_INET"));
  EXPECT_FALSE(names::address_family_from_name("AF_NOPE"));
  EXPECT_FALSE(names::address_family_from_name("2"));
  EXPECT_FALSE(names::address_family_from_name(""));
  EXPECT_EQ(names::address_family_name(AF_UNSPEC), "");
  EXPECT_EQ(names::address_family_name(AF_MAX), "");
  EXPECT_EQ(names::address_family_name(-1), "");
}

TEST(Names, NamespaceFlagsRoundTrip) {
  const std::pair<const char *, std::uint64_t> expected[] = {
      {"cgroup", CLONE_NEWCGROUP}, {"ipc", CLONE_NEWIPC},   {"net", CLONE_NEWNET},
      {"mnt", CLONE_NEWNS},        {"pid", CLONE_NEWPID},   {"user", CLONE_NEWUSER},
      {"uts", CLONE_NEWUTS},
  };
  std::uint64_t all = 0;
  for (const auto &[name, flag] : expected) {
    EXPECT_EQ(names::namespace_flag_from_name(name), flag) << name;
    EXPECT_EQ(names::namespace_name(flag), name);
    all |= flag;
  }
  EXPECT_EQ(names::all_namespace_flags(), all);
}

TEST(Names, NamespaceRejectsUnknownCaseAndCombinedFlags) {
  // systemd 252 has no "time" type (added later); its parser compares with streq().
  EXPECT_FALSE(names::namespace_flag_from_name("time"));
  EXPECT_FALSE(names::namespace_flag_from_name("mount"));
  EXPECT_FALSE(names::namespace_flag_from_name("ns"));
  EXPECT_FALSE(names::namespace_flag_from_name("NET"));
  EXPECT_FALSE(names::namespace_flag_from_name(""));
  EXPECT_EQ(names::namespace_name(CLONE_NEWNET | CLONE_NEWIPC), "");
  EXPECT_EQ(names::namespace_name(0), "");
}
