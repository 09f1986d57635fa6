// `ringfence run` with many IP rules: past a few dozen prefixes the programs remember each
// destination's verdict (SANDBOX_POLICY_CACHE). The second packet to a destination must get
// the first one's verdict, for refused and allowed destinations alike, over IPv4 and IPv6.
// Needs root. Traffic only to loopback addresses (IPv6: in a network namespace of the test's
// own, where fd00:5a::/64 is local).
#include "launch/launch_support.hpp"

#include <string>
#include <vector>

namespace rf::test {
namespace {

TEST(RunIpRules, ManyRulesGiveTheSameVerdictsEveryTime) {
  RF_REQUIRE_ROOT();
  LaunchEnv env;
  std::vector<std::string> args;
  for (int i = 1; i <= 70; ++i) // 70 hosts in 127.0.1.0/24, beside the one that matters
    args.insert(args.end(), {"-p", "IPAddressDeny=127.0.1." + std::to_string(i)});
  args.insert(args.end(), {"-p", "IPAddressDeny=127.0.0.2 ::1", "-p", "IPAddressAllow=127.0.1.5",
                           "--", "python3", "-c",
                           "import socket\n"
                           "def attempt(family, address):\n"
                           "  s = socket.socket(family, socket.SOCK_DGRAM)\n"
                           "  try: s.sendto(b'x', (address, 9)); return 'sent'\n"
                           "  except PermissionError: return 'refused'\n"
                           "for _ in range(3):\n"
                           "  print(attempt(socket.AF_INET, '127.0.0.2'), attempt(socket.AF_INET, '127.0.0.3'),\n"
                           "        attempt(socket.AF_INET, '127.0.1.7'), attempt(socket.AF_INET, '127.0.1.5'),\n"
                           "        attempt(socket.AF_INET6, '::1'))\n"});
  CommandResult result = env.run(args);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out, "refused sent refused sent refused\n"
                            "refused sent refused sent refused\n"
                            "refused sent refused sent refused\n");
  std::uint64_t counted = 0;
  for (const std::string &r : audit_records(env.audit_log, "sendmsg-denied"))
    counted += std::stoull(json_field(r, "count").value_or("0"));
  EXPECT_EQ(counted, 9u) << read_file(env.audit_log);
}

// The packet programs keep each run's verdicts per CPU in small direct-mapped tables (IPv4
// and IPv6 apart), in front of the shared cache and the tries. Many destinations take turns
// in each slot here, refused ones and allowed ones mixed, each sent to twice in a row (the
// second packet finds its verdict in the slot) and all of it twice: every packet must get
// its destination's verdict. Raw ICMP, so that only the packet programs decide (the
// sendmsg hook does not see raw sockets); a dropped packet fails sendto() with EPERM.
std::string raw_echo_script(int v4_hosts, int v6_hosts) {
  return "import socket\n"
         "s4 = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
         "s6 = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)\n"
         "def echo(s, packet, address):\n"
         "  try: s.sendto(packet, (address, 0)); return '+'\n"
         "  except PermissionError: return '-'\n"
         "for _ in range(2):\n"
         "  line = ''\n"
         "  for i in range(" + std::to_string(v4_hosts) + "):\n"
         "    for _ in range(2): line += echo(s4, bytes([8, 0, 0xf7, 0xfd, 0, 1, 0, 1]), "
         "'127.0.3.%d' % i)\n"
         "  line += ' '\n"
         "  for i in range(" + std::to_string(v6_hosts) + "):\n"
         "    for _ in range(2): line += echo(s6, bytes([128, 0, 0, 0, 0, 1, 0, 1]), "
         "'fd00:5a::%x' % i)\n"
         "  print(line)\n";
}

// `ringfence run ARGS` in a new network namespace whose fd00:5a::/64 is local (on lo).
CommandResult run_in_netns(const LaunchEnv &env, const std::vector<std::string> &args) {
  std::vector<std::string> argv = {"/usr/bin/unshare", "-n", "/bin/sh", "-c",
                                   "ip link set lo up && ip -6 route add local fd00:5a::/64 dev lo"
                                   " && exec \"$@\"",
                                   "sh"};
  std::vector<std::string> run = env.run_argv(args);
  argv.insert(argv.end(), run.begin(), run.end());
  return run_command(argv);
}

struct CacheCase {
  const char *name;
  std::vector<std::string> rules; // -p arguments
  bool (*allowed4)(int host), (*allowed6)(int host);
};

void expect_packet_verdicts(const CacheCase &c) {
  constexpr int kHosts4 = 128, kHosts6 = 64; // 4 and 8 per slot
  LaunchEnv env;
  std::vector<std::string> args;
  for (const std::string &rule : c.rules)
    args.insert(args.end(), {"-p", rule});
  args.insert(args.end(), {"-p", "IPAccounting=yes", "--", "python3", "-c",
                           raw_echo_script(kHosts4, kHosts6)});
  CommandResult result = run_in_netns(env, args);
  ASSERT_EQ(result.status, 0) << c.name << "\n" << result.err;
  std::string expected;
  std::uint64_t refused = 0;
  for (int i = 0; i < kHosts4; ++i) {
    expected += c.allowed4(i) ? "++" : "--";
    refused += c.allowed4(i) ? 0 : 2;
  }
  expected += ' ';
  for (int i = 0; i < kHosts6; ++i) {
    expected += c.allowed6(i) ? "++" : "--";
    refused += c.allowed6(i) ? 0 : 2;
  }
  EXPECT_EQ(result.out, expected + "\n" + expected + "\n") << c.name;
  std::vector<std::string> exits = audit_records(env.audit_log, "exit");
  ASSERT_EQ(exits.size(), 1u) << c.name;
  EXPECT_EQ(json_field(exits[0], "ip_dropped_egress_packets"), std::to_string(2 * refused))
      << c.name << ": every dropped packet is counted\n" << exits[0];
}

TEST(RunIpRules, PacketVerdictsStayRightWhenDestinationsShareCacheSlots) {
  RF_REQUIRE_ROOT();
  // Many rules (the shared cache too): every third host allowed out of denied networks.
  CacheCase many{"67 prefixes", {"IPAddressDeny=127.0.3.0/24 fd00:5a::/64"},
                 [](int i) { return i % 3 == 0; }, [](int i) { return i % 3 == 0; }};
  for (int i = 0; i < 128; i += 3)
    many.rules.push_back("IPAddressAllow=127.0.3." + std::to_string(i));
  for (int i = 0; i < 64; i += 3) {
    char word[32];
    std::snprintf(word, sizeof word, "IPAddressAllow=fd00:5a::%x", i);
    many.rules.push_back(word);
  }
  expect_packet_verdicts(many);
  // Few rules (the tries behind the per-CPU tables only): allowed blocks in denied networks.
  expect_packet_verdicts({"4 prefixes",
                          {"IPAddressDeny=127.0.3.0/24 fd00:5a::/64",
                           "IPAddressAllow=127.0.3.0/28 127.0.3.64/28 fd00:5a::/124 "
                           "fd00:5a::20/124"},
                          [](int i) { return i < 16 || (i >= 64 && i < 80); },
                          [](int i) { return i < 16 || (i >= 32 && i < 48); }});
}

} // namespace
} // namespace rf::test
