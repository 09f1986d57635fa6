// IPAddressAllow=/IPAddressDeny= words and prefix reduction, with systemd's expansions.
#include "policy/ip_prefix.hpp"

#include <gtest/gtest.h>

#include <string>
#include <sys/socket.h>
#include <vector>

using rf::format_prefix;
using rf::IpPrefix;
using rf::parse_ip_prefix_word;
using rf::prefix_covers;
using rf::reduce_prefixes;
using Strings = std::vector<std::string>;

namespace {

Strings parsed(std::string_view word) {
  auto r = parse_ip_prefix_word(word);
  EXPECT_TRUE(r.ok()) << word << ": " << (r.ok() ? "" : r.error().message());
  Strings out;
  if (r.ok())
    for (const auto &p : *r)
      out.push_back(format_prefix(p));
  return out;
}

IpPrefix one(std::string_view word) {
  auto r = parse_ip_prefix_word(word);
  EXPECT_TRUE(r.ok() && r->size() == 1) << word;
  return r.ok() && !r->empty() ? r->front() : IpPrefix{};
}

Strings formatted(const std::vector<IpPrefix> &list) {
  Strings out;
  for (const auto &p : list)
    out.push_back(format_prefix(p));
  return out;
}

} // namespace

TEST(IpPrefix, Ipv4HostWithoutLengthIsSlash32) {
  EXPECT_EQ(parsed("192.168.1.10"), (Strings{"192.168.1.10/32"}));
  EXPECT_EQ(one("192.168.1.10").family, AF_INET);
  EXPECT_EQ(one("192.168.1.10").length, 32);
}

TEST(IpPrefix, Ipv6HostWithoutLengthIsSlash128) {
  EXPECT_EQ(parsed("::1"), (Strings{"::1/128"}));
  EXPECT_EQ(parsed("2001:db8::7"), (Strings{"2001:db8::7/128"}));
  EXPECT_EQ(one("::1").family, AF_INET6);
}

TEST(IpPrefix, WithLength) {
  EXPECT_EQ(parsed("10.0.0.0/8"), (Strings{"10.0.0.0/8"}));
  EXPECT_EQ(parsed("2001:db8::/32"), (Strings{"2001:db8::/32"}));
}

TEST(IpPrefix, HostBitsAreCleared) {
  EXPECT_EQ(parsed("10.1.2.3/8"), (Strings{"10.0.0.0/8"}));
  EXPECT_EQ(parsed("192.168.255.255/17"), (Strings{"192.168.128.0/17"}));
  EXPECT_EQ(parsed("2001:db8:ffff::1/33"), (Strings{"2001:db8:8000::/33"}));
  EXPECT_EQ(parsed("fe80::1234/64"), (Strings{"fe80::/64"}));
}

TEST(IpPrefix, EveryIpv4LengthIsAccepted) {
  for (int len = 0; len <= 32; ++len) {
    auto r = parse_ip_prefix_word("255.255.255.255/" + std::to_string(len));
    ASSERT_TRUE(r.ok()) << len;
    EXPECT_EQ(r->front().length, len);
  }
  EXPECT_EQ(parsed("1.2.3.4/0"), (Strings{"0.0.0.0/0"}));
}

TEST(IpPrefix, EveryIpv6LengthIsAccepted) {
  for (int len = 0; len <= 128; ++len) {
    auto r = parse_ip_prefix_word("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/" + std::to_string(len));
    ASSERT_TRUE(r.ok()) << len;
    EXPECT_EQ(r->front().length, len);
  }
  EXPECT_EQ(parsed("::1/0"), (Strings{"::/0"}));
}

TEST(IpPrefix, LengthTooLongIsRejected) {
  EXPECT_FALSE(parse_ip_prefix_word("10.0.0.0/33").ok());
  EXPECT_FALSE(parse_ip_prefix_word("::/129").ok());
  EXPECT_FALSE(parse_ip_prefix_word("10.0.0.0/128").ok());
  auto r = parse_ip_prefix_word("10.0.0.0/33");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("10.0.0.0/33"), std::string::npos);
}

TEST(IpPrefix, AnyExpandsToBothFamilies) {
  EXPECT_EQ(parsed("any"), (Strings{"0.0.0.0/0", "::/0"}));
}

TEST(IpPrefix, LocalhostExpandsExactly) {
  EXPECT_EQ(parsed("localhost"), (Strings{"127.0.0.0/8", "::1/128"}));
}

TEST(IpPrefix, LocalhostAliasesAsSystemdIsLocalhost) {
  EXPECT_EQ(parsed("localhost."), (Strings{"127.0.0.0/8", "::1/128"}));
  EXPECT_EQ(parsed("localhost.localdomain"), (Strings{"127.0.0.0/8", "::1/128"}));
  EXPECT_EQ(parsed("foo.localhost"), (Strings{"127.0.0.0/8", "::1/128"}));
}

TEST(IpPrefix, LinkLocalIsFe80Slash64NotSlash10) {
  EXPECT_EQ(parsed("link-local"), (Strings{"169.254.0.0/16", "fe80::/64"}));
}

TEST(IpPrefix, MulticastExpandsExactly) {
  EXPECT_EQ(parsed("multicast"), (Strings{"224.0.0.0/4", "ff00::/8"}));
}

TEST(IpPrefix, GarbageIsRejected) {
  for (const char *bad :
       {"", "true", "yes", "example.com", "10.0.0", "10.0.0.256", "10.0.0.0/", "10.0.0.0/-1",
        "10.0.0.0/8/8", "10.0.0.0/x", "10.0.0.0/ 8", "/8", "::g", "127.0.0.1:80", "Any",
        "localhost/8", "10.0.0.0/8,10.1.0.0/16", "[::1]"}) {
    auto r = parse_ip_prefix_word(bad);
    EXPECT_FALSE(r.ok()) << "'" << bad << "' accepted";
  }
}

TEST(IpPrefix, FormatPrefix) {
  EXPECT_EQ(format_prefix(one("10.0.0.0/8")), "10.0.0.0/8");
  EXPECT_EQ(format_prefix(one("::ffff:1.2.3.4")), "::ffff:1.2.3.4/128");
}

TEST(IpPrefix, PrefixCovers) {
  EXPECT_TRUE(prefix_covers(one("10.0.0.0/8"), one("10.1.2.0/24")));
  EXPECT_TRUE(prefix_covers(one("10.0.0.0/8"), one("10.0.0.0/8")));
  EXPECT_FALSE(prefix_covers(one("10.1.2.0/24"), one("10.0.0.0/8")));
  EXPECT_FALSE(prefix_covers(one("10.0.0.0/8"), one("11.0.0.0/24")));
  EXPECT_FALSE(prefix_covers(one("0.0.0.0/0"), one("::1"))); // families never mix
  EXPECT_TRUE(prefix_covers(one("::/0"), one("::1")));
}

TEST(ReducePrefixes, DropsDuplicates) {
  auto r = reduce_prefixes({one("10.0.0.1"), one("10.0.0.1"), one("10.0.0.2")});
  EXPECT_EQ(formatted(r), (Strings{"10.0.0.1/32", "10.0.0.2/32"}));
}

TEST(ReducePrefixes, DropsCoveredPrefixes) {
  auto r = reduce_prefixes({one("10.1.2.3"), one("10.1.0.0/16"), one("10.0.0.0/8"),
                            one("11.0.0.1"), one("2001:db8::1"), one("2001:db8::/32")});
  EXPECT_EQ(formatted(r), (Strings{"10.0.0.0/8", "11.0.0.1/32", "2001:db8::/32"}));
}

TEST(ReducePrefixes, AnyCoversEverythingOfItsFamily) {
  std::vector<IpPrefix> in;
  for (const char *w : {"10.0.0.0/8", "any", "::1", "192.168.0.1"}) {
    auto r = parse_ip_prefix_word(w);
    ASSERT_TRUE(r.ok()) << w;
    std::vector<IpPrefix> words = *r;
    in.insert(in.end(), words.begin(), words.end());
  }
  EXPECT_EQ(formatted(reduce_prefixes(in)), (Strings{"0.0.0.0/0", "::/0"}));
}

TEST(ReducePrefixes, SortsByFamilyThenAddress) {
  auto r = reduce_prefixes({one("::2"), one("10.0.0.2"), one("::1"), one("10.0.0.1")});
  EXPECT_EQ(formatted(r), (Strings{"10.0.0.1/32", "10.0.0.2/32", "::1/128", "::2/128"}));
}

TEST(ReducePrefixes, EmptyStaysEmpty) {
  EXPECT_TRUE(reduce_prefixes({}).empty());
}

TEST(ReducePrefixes, ReducesAHundredThousandPrefixes) {
  std::vector<IpPrefix> in;
  in.reserve(100'000 + 1000 + 2);
  for (int i = 0; i < 100'000; ++i) {
    IpPrefix p;
    p.family = AF_INET;
    p.addr[0] = 10;
    p.addr[1] = static_cast<std::uint8_t>(i >> 16);
    p.addr[2] = static_cast<std::uint8_t>(i >> 8);
    p.addr[3] = static_cast<std::uint8_t>(i);
    p.length = 32;
    in.push_back(p);
  }
  for (int i = 0; i < 1000; ++i) // duplicates
    in.push_back(in[static_cast<size_t>(i) * 7]);
  in.push_back(one("10.0.0.0/16")); // covers 10.0.0.0 .. 10.0.255.255: the first 65,536
  in.push_back(one("2001:db8::/64"));
  auto r = reduce_prefixes(std::move(in));
  EXPECT_EQ(r.size(), 1u + (100'000u - 65'536u) + 1u);
  EXPECT_EQ(format_prefix(r.front()), "10.0.0.0/16");
  EXPECT_EQ(format_prefix(r.back()), "2001:db8::/64");
}
