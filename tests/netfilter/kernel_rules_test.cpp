// The prefixes written to the kernel: the same verdicts as the unit's rules, fewer lookups.
#include "netfilter/ip_filter.hpp"
#include "policy/ip_prefix.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rf::netfilter {
namespace {

std::vector<IpPrefix> prefixes(const std::vector<std::string> &words) {
  std::vector<IpPrefix> out;
  for (const std::string &word : words) {
    Result<std::vector<IpPrefix>> parsed = parse_ip_prefix_word(word);
    EXPECT_TRUE(parsed.ok()) << word;
    if (parsed)
      out.insert(out.end(), parsed->begin(), parsed->end());
  }
  return out;
}

std::vector<std::string> words(const std::vector<IpPrefix> &list) {
  std::vector<std::string> out;
  for (const IpPrefix &p : list)
    out.push_back(format_prefix(p));
  return out;
}

// systemd's verdict for one address: an allow match passes; else a deny match drops.
bool allowed(const std::vector<IpPrefix> &allow, const std::vector<IpPrefix> &deny,
             const std::string &address) {
  IpPrefix host = prefixes({address}).front();
  for (const IpPrefix &a : allow)
    if (prefix_covers(a, host))
      return true;
  for (const IpPrefix &d : deny)
    if (prefix_covers(d, host))
      return false;
  return true;
}

TEST(KernelRules, AnAllowThatMeetsNoDenyIsDropped) {
  KernelRules rules = kernel_rules(prefixes({"127.0.0.1", "::1"}), prefixes({"10.0.0.0/8"}));
  EXPECT_TRUE(rules.allow.empty()) << words(rules.allow).size();
  EXPECT_EQ(words(rules.deny), std::vector<std::string>{"10.0.0.0/8"});
}

TEST(KernelRules, ADenyInsideAnAllowIsDropped) {
  KernelRules rules = kernel_rules(prefixes({"10.0.0.0/8"}), prefixes({"10.1.0.0/16", "192.168.0.0/16"}));
  EXPECT_EQ(words(rules.deny), std::vector<std::string>{"192.168.0.0/16"});
  EXPECT_TRUE(rules.allow.empty());
}

TEST(KernelRules, AllowsInsideADenyAndDenyAnyStay) {
  KernelRules rules = kernel_rules(prefixes({"localhost", "10.20.0.0/16", "fd00:1::/48"}),
                                   prefixes({"any"}));
  EXPECT_EQ(rules.allow.size(), 4u); // 127.0.0.0/8, ::1/128 and the two prefixes
  EXPECT_EQ(rules.deny.size(), 2u);  // 0.0.0.0/0 and ::/0
}

TEST(KernelRules, VerdictsAreThoseOfTheUnitsRules) {
  std::vector<IpPrefix> allow = prefixes({"10.1.0.0/16", "10.2.3.4", "192.168.0.0/16", "::1", "fe80::/64"});
  std::vector<IpPrefix> deny = prefixes({"10.0.0.0/8", "10.1.2.0/24", "172.16.0.0/12", "fe80::/10", "::/0"});
  KernelRules rules = kernel_rules(allow, deny);
  for (const char *address : {"10.1.2.3", "10.2.3.4", "10.2.3.5", "10.9.9.9", "172.16.1.1",
                              "192.168.1.1", "203.0.113.9", "::1", "fe80::1", "fe81::1", "2001:db8::1"})
    EXPECT_EQ(allowed(rules.allow, rules.deny, address), allowed(allow, deny, address)) << address;
  EXPECT_LT(rules.allow.size() + rules.deny.size(), allow.size() + deny.size());
}

} // namespace
} // namespace rf::netfilter
