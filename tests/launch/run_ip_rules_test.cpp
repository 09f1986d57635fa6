// `ringfence run` with many IP rules: past a few dozen prefixes the programs remember each
// destination's verdict (SANDBOX_POLICY_CACHE). The second packet to a destination must get
// the first one's verdict, for refused and allowed destinations alike, over IPv4 and IPv6.
// Needs root. Traffic only to loopback addresses.
#include "launch/launch_support.hpp"

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

} // namespace
} // namespace rf::test
