// IPAddressAllow=/IPAddressDeny=/IPAccounting= through the real `ringfence run`: the
// programs shared on the cgroup parent, the per-run rules, accounting in the exit record.
//
// Network safety: every packet these tests send goes to loopback (127.0.0.0/8, ::1). A
// "denied" destination is a loopback address too (127.0.0.2 while 127.0.0.1 is allowed).
// The 10.x addresses of the large-policy test are only loaded, never sent to.
#include "cgroup/invocations.hpp"
#include "netfilter/ip_filter.hpp"
#include "sandbox_abi.h"

#include "../netfilter/ip_filter_fixture.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <chrono>
#include <fcntl.h>
#include <future>
#include <gtest/gtest.h>
#include <iostream>
#include <linux/bpf.h>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <signal.h>
#include <sstream>
#include <string>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char **environ;

namespace rf {
namespace {

using test::CommandResult;
using Strings = std::vector<std::string>;

// The service side of most tests: `probe.py ACTION ADDR [ACTION ADDR]...` tries each action
// and prints one line "ACTION ADDR RESULT MILLISECONDS" for it; RESULT is "ok" or the errno
// name ("EPERM"). The client binds to the address it talks to, so that a loopback packet's
// source is the destination too and only the rules about that address decide (otherwise
// 127.0.0.2 would be reached from 127.0.0.1 and the reply checked against .1's rules).
// "touch FILE" and "wait FILE" let two runs take turns.
constexpr const char *kProbe = R"py(
import errno, os, socket, sys, time

def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno)) if e.errno else type(e).__name__

def family_of(addr):
    return socket.AF_INET6 if ':' in addr else socket.AF_INET

def server_side(addr):
    # A v4-mapped destination is served by an IPv4 socket.
    if addr.startswith('::ffff:'):
        return socket.AF_INET, addr[7:]
    return family_of(addr), addr

def tcp(addr, client_family):
    sf, sa = server_side(addr)
    srv = socket.socket(sf, socket.SOCK_STREAM)
    srv.bind((sa, 0)); srv.listen(1)
    c = socket.socket(client_family, socket.SOCK_STREAM)
    c.settimeout(3)
    c.bind((addr, 0))
    c.connect((addr, srv.getsockname()[1]))
    srv.accept()
    return 'ok'

def tcp_fastopen(addr):
    # sendto(MSG_FASTOPEN) connects without connect(): the SYN carries the data.
    srv = socket.socket(family_of(addr), socket.SOCK_STREAM)
    srv.bind((addr, 0)); srv.listen(1)
    c = socket.socket(family_of(addr), socket.SOCK_STREAM)  # blocking: no EINPROGRESS
    c.bind((addr, 0))
    c.sendto(b'x', socket.MSG_FASTOPEN, (addr, srv.getsockname()[1]))
    conn, _ = srv.accept()
    conn.settimeout(3)
    conn.recv(1)
    return 'ok'

def udp(addr, client_family, connected):
    sf, sa = server_side(addr)
    srv = socket.socket(sf, socket.SOCK_DGRAM)
    srv.bind((sa, 0)); srv.settimeout(2)
    port = srv.getsockname()[1]
    c = socket.socket(client_family, socket.SOCK_DGRAM)
    c.bind((addr, 0))
    if connected:
        try:
            c.connect((addr, port))
        except OSError as e:
            return 'connect:' + err_name(e)
        c.send(b'x')
    else:
        c.sendto(b'x', (addr, port))
    srv.recv(16)
    return 'ok'

def icmp(addr):
    if ':' in addr:
        s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        packet = bytes([128, 0, 0, 0, 0, 1, 0, 1])  # the kernel computes the checksum
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        body = bytes([8, 0, 0, 0, 0, 1, 0, 1])
        total = sum((body[i] << 8) | body[i + 1] for i in range(0, len(body), 2))
        total = (total & 0xffff) + (total >> 16)
        checksum = ~total & 0xffff
        packet = body[:2] + bytes([checksum >> 8, checksum & 0xff]) + body[4:]
    s.sendto(packet, (addr, 0))
    return 'ok'

def touch(path):
    open(path, 'w').close()
    return 'ok'

def wait(path):
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            return 'timeout'
        time.sleep(0.01)
    return 'ok'

ACTIONS = {
    'tcp': lambda a: tcp(a, family_of(a)),
    'tcp6': lambda a: tcp(a, socket.AF_INET6),
    'tcp_fastopen': tcp_fastopen,
    'udp_sendto': lambda a: udp(a, family_of(a), False),
    'udp6_sendto': lambda a: udp(a, socket.AF_INET6, False),
    'udp_connect': lambda a: udp(a, family_of(a), True),
    'udp6_connect': lambda a: udp(a, socket.AF_INET6, True),
    'icmp': icmp,
    'touch': touch,
    'wait': wait,
}

args = sys.argv[1:]
for i in range(0, len(args), 2):
    action, addr = args[i], args[i + 1]
    start = time.monotonic()
    try:
        result = ACTIONS[action](addr)
    except OSError as e:
        result = err_name(e)
    ms = int((time.monotonic() - start) * 1000)
    print(action, addr, result, ms, flush=True)
)py";

// A TCP server for the inbound test: listens on 127.0.0.1, writes its port to argv[1] and
// the address of every connection it accepts to argv[2]; a connection sending "quit" ends it.
constexpr const char *kListener = R"py(
import os, socket, sys
port_file, peers_file = sys.argv[1], sys.argv[2]
srv = socket.socket()
srv.bind(('127.0.0.1', 0)); srv.listen(8); srv.settimeout(10)
with open(port_file + '.tmp', 'w') as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + '.tmp', port_file)
while True:
    conn, peer = srv.accept()
    with open(peers_file, 'a') as f:
        f.write(peer[0] + '\n')
    if conn.recv(16) == b'quit':
        break
)py";

struct ProbeResult {
  std::string result; // "ok", "EPERM", "connect:EPERM", ...
  long ms = -1;
};
using ProbeResults = std::map<std::string, ProbeResult>; // "ACTION ADDR" → result

ProbeResults parse_probe_output(const std::string &out) {
  ProbeResults results;
  std::istringstream lines(out);
  std::string action, addr, result;
  long ms = 0;
  while (lines >> action >> addr >> result >> ms)
    results[action + " " + addr] = {result, ms};
  return results;
}

// The value at a dotted path ("ip_protocols.udp.packets") of a one-line JSON record whose
// keys are unique along the path (true of the exit record); nullopt when absent.
std::optional<std::uint64_t> json_u64(const std::string &json, const std::string &path) {
  std::size_t at = 0, start = 0;
  for (std::size_t dot; start <= path.size(); start = dot + 1) {
    dot = path.find('.', start);
    if (dot == std::string::npos)
      dot = path.size();
    at = json.find("\"" + path.substr(start, dot - start) + "\":", at);
    if (at == std::string::npos)
      return std::nullopt;
    at += dot - start + 3;
  }
  std::size_t end = json.find_first_not_of("0123456789", at);
  if (end == at)
    return std::nullopt;
  return std::stoull(json.substr(at, end - at));
}

std::string join(const Strings &words) {
  std::string text;
  for (const std::string &word : words)
    text += (text.empty() ? "" : " ") + word;
  return text;
}

bool file_exists(const std::string &path) { return ::access(path.c_str(), F_OK) == 0; }

// Polls for a file a service writes; false after `seconds`.
bool wait_for_file(const std::string &path, double seconds) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    if (file_exists(path))
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

class IpFilterRun : public ::testing::Test {
protected:
  void SetUp() override {
    RF_REQUIRE_ROOT();
    parent_.emplace();
    test::write_file(probe_path(), kProbe);
  }

  std::string probe_path() const { return tmp_ / "probe.py"; }
  std::string audit_log() const { return tmp_ / "audit.jsonl"; }

  Strings run_argv(const Strings &properties, const Strings &command) const {
    Strings argv = {test::ringfence_bin(), "run",       "--cgroup-parent", parent_->relative(),
                    "--audit-log",         audit_log()};
    for (const std::string &property : properties) {
      argv.push_back("-p");
      argv.push_back(property);
    }
    argv.push_back("--");
    argv.insert(argv.end(), command.begin(), command.end());
    return argv;
  }

  CommandResult run(const Strings &properties, const Strings &command,
                    const Strings &env = {}) const {
    return test::run_command(run_argv(properties, command), env);
  }

  Strings probe_command(const Strings &actions) const {
    Strings command = {"/usr/bin/python3", probe_path()};
    command.insert(command.end(), actions.begin(), actions.end());
    return command;
  }

  // Runs the probe under `properties`; the run itself must succeed.
  ProbeResults probe(const Strings &properties, const Strings &actions) const {
    CommandResult result = run(properties, probe_command(actions));
    EXPECT_EQ(result.status, 0) << join(properties) << "\nstdout: " << result.out
                                << "\nstderr: " << result.err;
    return parse_probe_output(result.out);
  }

  // What each "ACTION ADDR" gave, or "missing" when the probe printed nothing for it.
  static std::string outcome(const ProbeResults &results, const std::string &key) {
    auto it = results.find(key);
    return it == results.end() ? "missing" : it->second.result;
  }

  // The last record of the audit log with this event.
  std::string last_record(const std::string &event) const {
    std::istringstream lines(test::read_file(audit_log()));
    std::string line, found;
    while (std::getline(lines, line))
      if (line.find("\"event\":\"" + event + "\"") != std::string::npos)
        found = line;
    return found;
  }

  // The shared maps of the set on the parent (this build's), which must be there.
  std::optional<netfilter::ParentFilter> parent_filter() const {
    UniqueFd fd = parent_->open();
    Result<std::optional<netfilter::ParentFilter>> found = netfilter::ParentFilter::find(fd.get());
    if (!found) {
      ADD_FAILURE() << found.error().message();
      return std::nullopt;
    }
    return std::move(*found);
  }

  test::TempDir tmp_;
  std::optional<test::IpTestParent> parent_;
};

// ---- outbound: the socket hooks refuse at once ----

// A refused connect() must fail immediately (the connect4 hook), not hang in SYN
// retransmissions; the allowed address beside it shows the filter is no blanket refusal.
TEST_F(IpFilterRun, TcpConnectToDeniedAddressFailsAtOnceWithEperm) {
  ProbeResults results = probe({"IPAddressDeny=127.0.0.2"}, {"tcp", "127.0.0.2", "tcp", "127.0.0.1"});
  EXPECT_EQ(outcome(results, "tcp 127.0.0.2"), "EPERM");
  EXPECT_LT(results["tcp 127.0.0.2"].ms, 1000) << "a generous bound: EPERM is immediate";
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "ok");
}

// TCP Fast Open connects from sendto(): the connect hook must see that path too.
TEST_F(IpFilterRun, TcpFastOpenSendtoToDeniedAddressFailsWithEperm) {
  ProbeResults results = probe({"IPAddressDeny=127.0.0.2"},
                               {"tcp_fastopen", "127.0.0.2", "tcp_fastopen", "127.0.0.1"});
  EXPECT_EQ(outcome(results, "tcp_fastopen 127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(results, "tcp_fastopen 127.0.0.1"), "ok");
}

TEST_F(IpFilterRun, UdpSendtoToDeniedAddressFailsWithEperm) {
  ProbeResults results =
      probe({"IPAddressDeny=127.0.0.2"}, {"udp_sendto", "127.0.0.2", "udp_sendto", "127.0.0.1"});
  EXPECT_EQ(outcome(results, "udp_sendto 127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(results, "udp_sendto 127.0.0.1"), "ok");
}

// A connected UDP socket is checked at connect() (the connect4 hook sees UDP too).
TEST_F(IpFilterRun, UdpConnectToDeniedAddressFailsWithEperm) {
  ProbeResults results = probe({"IPAddressDeny=127.0.0.2"},
                               {"udp_connect", "127.0.0.2", "udp_connect", "127.0.0.1"});
  EXPECT_EQ(outcome(results, "udp_connect 127.0.0.2"), "connect:EPERM");
  EXPECT_EQ(outcome(results, "udp_connect 127.0.0.1"), "ok");
}

// A dual-stack AF_INET6 socket reaches IPv4 peers through ::ffff:a.b.c.d; the v4 rules must
// apply there, or an IPv4 deny is bypassed by switching socket family.
TEST_F(IpFilterRun, V4MappedDestinationOnInet6SocketFollowsIpv4Rules) {
  ProbeResults results = probe({"IPAddressDeny=127.0.0.2"},
                               {"tcp6", "::ffff:127.0.0.2", "udp6_sendto", "::ffff:127.0.0.2",
                                "udp6_connect", "::ffff:127.0.0.2", "tcp6", "::ffff:127.0.0.1"});
  EXPECT_EQ(outcome(results, "tcp6 ::ffff:127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(results, "udp6_sendto ::ffff:127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(results, "udp6_connect ::ffff:127.0.0.2"), "connect:EPERM");
  EXPECT_EQ(outcome(results, "tcp6 ::ffff:127.0.0.1"), "ok");
}

TEST_F(IpFilterRun, DeniedIpv6LoopbackIsRefusedForTcpAndUdp) {
  ProbeResults results = probe({"IPAddressDeny=::1"},
                               {"tcp", "::1", "udp_sendto", "::1", "udp_connect", "::1", "tcp",
                                "127.0.0.1"});
  EXPECT_EQ(outcome(results, "tcp ::1"), "EPERM");
  EXPECT_EQ(outcome(results, "udp_sendto ::1"), "EPERM");
  EXPECT_EQ(outcome(results, "udp_connect ::1"), "connect:EPERM");
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "ok") << "an IPv6 rule leaves IPv4 alone";
}

TEST_F(IpFilterRun, Ipv6AllowBeatsDenyAny) {
  ProbeResults results = probe({"IPAddressAllow=::1", "IPAddressDeny=any"},
                               {"tcp", "::1", "udp_sendto", "::1", "tcp", "127.0.0.1"});
  EXPECT_EQ(outcome(results, "tcp ::1"), "ok");
  EXPECT_EQ(outcome(results, "udp_sendto ::1"), "ok");
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "EPERM");
}

// Raw ICMP never passes the connect/sendmsg hooks: the skb egress program drops it, and the
// drop comes back from sendto() as EPERM.
TEST_F(IpFilterRun, RawIcmpEchoToDeniedAddressFailsWithEperm) {
  ProbeResults results = probe({"IPAddressDeny=127.0.0.2 ::1"},
                               {"icmp", "127.0.0.2", "icmp", "::1", "icmp", "127.0.0.1"});
  EXPECT_EQ(outcome(results, "icmp 127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(results, "icmp ::1"), "EPERM");
  EXPECT_EQ(outcome(results, "icmp 127.0.0.1"), "ok");
}

// ---- inbound: the ingress program checks the source ----

// A connection from a denied source (127.0.0.3) never reaches accept(): its SYN is dropped
// on ingress, so the client sees no answer. One from an allowed source is accepted.
TEST_F(IpFilterRun, InboundConnectionFromDeniedSourceIsNotAccepted) {
  std::string listener = tmp_ / "listener.py", port_file = tmp_ / "port",
              peers = tmp_ / "peers";
  test::write_file(listener, kListener);
  auto service = std::async(std::launch::async, [&] {
    return run({"IPAddressDeny=127.0.0.3"}, {"/usr/bin/python3", listener, port_file, peers});
  });
  ASSERT_TRUE(wait_for_file(port_file, 10)) << "the listener did not start";
  auto port = static_cast<std::uint16_t>(std::stoi(test::read_file(port_file)));

  auto client_from = [port](const char *source) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in local{}, remote{};
    local.sin_family = remote.sin_family = AF_INET;
    ::inet_pton(AF_INET, source, &local.sin_addr);
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    remote.sin_port = htons(port);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr *>(&local), sizeof local), 0);
    int rc = ::connect(fd.get(), reinterpret_cast<sockaddr *>(&remote), sizeof remote);
    EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
    return fd;
  };
  auto connected_within = [](int fd, int ms) {
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, ms) != 1)
      return false;
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
    return error == 0;
  };

  UniqueFd denied = client_from("127.0.0.3");
  EXPECT_FALSE(connected_within(denied.get(), 1500)) << "a SYN from 127.0.0.3 was answered";
  denied.reset();
  UniqueFd allowed = client_from("127.0.0.1");
  ASSERT_TRUE(connected_within(allowed.get(), 2000)) << "127.0.0.1 could not connect";
  ASSERT_EQ(::send(allowed.get(), "quit", 4, MSG_NOSIGNAL), 4);

  CommandResult result = service.get();
  EXPECT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(test::read_file(peers), "127.0.0.1\n") << "only the allowed client was accepted";
}

// ---- rule semantics ----

// systemd's order: an allow match passes even inside a denied network.
TEST_F(IpFilterRun, AllowedHostBeatsDeniedNetwork) {
  ProbeResults results = probe({"IPAddressDeny=127.0.0.0/8", "IPAddressAllow=127.0.0.1/32"},
                               {"tcp", "127.0.0.1", "tcp", "127.0.0.2"});
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "ok");
  EXPECT_EQ(outcome(results, "tcp 127.0.0.2"), "EPERM");
}

// Each prefix length covers exactly its range: one run per rule, probing an address inside
// and one outside (all loopback: the whole of 127.0.0.0/8 is local).
TEST_F(IpFilterRun, DenyPrefixesCoverExactlyTheirRange) {
  struct Case {
    const char *rule, *inside, *outside;
  };
  const Case cases[] = {
      {"0.0.0.0/0", "127.0.0.1", "::1"},       {"127.0.0.0/8", "127.1.2.3", "::1"},
      {"127.0.0.0/24", "127.0.0.2", "127.0.1.2"}, {"127.0.0.2/32", "127.0.0.2", "127.0.0.3"},
      {"::1/128", "::1", "127.0.0.1"},          {"::/64", "::1", "127.0.0.1"},
      {"::/0", "::1", "127.0.0.1"},
  };
  for (const Case &c : cases) {
    ProbeResults results =
        probe({std::string("IPAddressDeny=") + c.rule}, {"tcp", c.inside, "tcp", c.outside});
    EXPECT_EQ(outcome(results, std::string("tcp ") + c.inside), "EPERM") << c.rule;
    EXPECT_EQ(outcome(results, std::string("tcp ") + c.outside), "ok") << c.rule;
  }
}

TEST_F(IpFilterRun, DenyAnyRefusesBothFamilies) {
  ProbeResults results = probe({"IPAddressDeny=any"}, {"tcp", "127.0.0.1", "tcp", "::1"});
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "EPERM");
  EXPECT_EQ(outcome(results, "tcp ::1"), "EPERM");
}

// localhost is 127.0.0.0/8 and ::1: all of loopback, not only 127.0.0.1.
TEST_F(IpFilterRun, AllowLocalhostCoversAllLoopback) {
  ProbeResults results = probe({"IPAddressAllow=localhost", "IPAddressDeny=any"},
                               {"tcp", "127.0.0.2", "tcp", "::1"});
  EXPECT_EQ(outcome(results, "tcp 127.0.0.2"), "ok");
  EXPECT_EQ(outcome(results, "tcp ::1"), "ok");
}

// link-local and multicast cannot be exercised safely on loopback: their expansion is
// checked through `show --json` (systemd's ranges).
TEST_F(IpFilterRun, LinkLocalAndMulticastWordsExpandToSystemdRanges) {
  std::string unit = tmp_ / "words.service";
  test::write_file(unit, "[Service]\nExecStart=/bin/true\nIPAddressAllow=link-local\n"
                         "IPAddressDeny=multicast\n");
  CommandResult result = test::run_command({test::ringfence_bin(), "show", unit, "--json"});
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("\"ip_address_allow\":[\"169.254.0.0/16\",\"fe80::/64\"]"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("\"ip_address_deny\":[\"224.0.0.0/4\",\"ff00::/8\"]"),
            std::string::npos)
      << result.out;
}

// An empty assignment drops the earlier ones, as in systemd (`-p IPAddressDeny=` resets).
TEST_F(IpFilterRun, EmptyIpAddressDenyResetsEarlierAssignments) {
  ProbeResults results =
      probe({"IPAddressDeny=127.0.0.2", "IPAddressDeny="}, {"tcp", "127.0.0.2"});
  EXPECT_EQ(outcome(results, "tcp 127.0.0.2"), "ok");
}

// The programs find a socket's run as its cgroup ancestor at the runs' level, computed from
// the parent's path. Spelling the same parent with "//" or "/." must not shift that level:
// with a level one too deep no socket has an ancestor there, and everything passes.
TEST_F(IpFilterRun, DenyHoldsWhenCgroupParentIsSpelledWithExtraSlashesOrDots) {
  for (const std::string &spelling :
       {"/" + parent_->relative(), parent_->relative() + "/.", parent_->relative() + "//"}) {
    CommandResult result =
        test::run_command({test::ringfence_bin(), "run", "--cgroup-parent", spelling,
                           "--audit-log", audit_log(), "-p", "IPAddressDeny=127.0.0.2", "--",
                           "/usr/bin/python3", probe_path(), "tcp", "127.0.0.2"});
    EXPECT_EQ(result.status, 0) << spelling << ": " << result.err;
    EXPECT_EQ(outcome(parse_probe_output(result.out), "tcp 127.0.0.2"), "EPERM")
        << "--cgroup-parent " << spelling;
  }
}

TEST(IpCgroupLevel, CountsPathComponentsBelowTheMount) {
  const std::string mount = "/sys/fs/cgroup";
  EXPECT_EQ(cgroup::cgroup_level(mount, mount), 0);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "/a"), 1);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "/a/b"), 2);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "/a/b/"), 2);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "//a"), 1);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "/a//b//"), 2);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "/a/."), 1);
  EXPECT_EQ(cgroup::cgroup_level(mount, mount + "/./a/./b"), 2);
}

// ---- accounting ----

// N datagrams of P bytes to a receiver in the same service: each is one packet out and one
// in, skb->len = P + 20 (IPv4 header) + 8 (UDP header), nothing else is sent.
TEST_F(IpFilterRun, IpAccountingCountsUdpDatagramsExactly) {
  constexpr std::uint64_t kDatagrams = 10, kPayload = 100, kWire = kPayload + 28;
  std::string script = "import socket\n"
                       "r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                       "r.bind(('127.0.0.1', 0)); r.settimeout(2)\n"
                       "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                       "for i in range(" + std::to_string(kDatagrams) + "):\n"
                       "    s.sendto(b'x' * " + std::to_string(kPayload) + ", r.getsockname())\n"
                       "for i in range(" + std::to_string(kDatagrams) + "):\n"
                       "    r.recv(1000)\n";
  CommandResult result = run({"IPAccounting=yes"}, {"/usr/bin/python3", "-c", script});
  ASSERT_EQ(result.status, 0) << result.err;
  std::string exit = last_record("exit");
  ASSERT_FALSE(exit.empty()) << test::read_file(audit_log());
  EXPECT_EQ(json_u64(exit, "ip_egress_packets"), kDatagrams) << exit;
  EXPECT_EQ(json_u64(exit, "ip_egress_bytes"), kDatagrams * kWire) << exit;
  EXPECT_EQ(json_u64(exit, "ip_ingress_packets"), kDatagrams) << exit;
  EXPECT_EQ(json_u64(exit, "ip_ingress_bytes"), kDatagrams * kWire) << exit;
  EXPECT_EQ(json_u64(exit, "ip_protocols.udp.packets"), 2 * kDatagrams) << exit;
  EXPECT_EQ(json_u64(exit, "ip_protocols.udp.bytes"), 2 * kDatagrams * kWire) << exit;
  EXPECT_EQ(json_u64(exit, "ip_protocols.tcp.packets"), 0u) << exit;
  EXPECT_EQ(json_u64(exit, "ip_dropped_egress_packets"), 0u) << exit;
  EXPECT_EQ(json_u64(exit, "ip_dropped_ingress_packets"), 0u) << exit;
}

// A refused sendto() is stopped by the sendmsg hook before a packet exists: it is no
// dropped packet. Raw ICMP reaches the skb egress program, which drops and counts it.
TEST_F(IpFilterRun, IpAccountingCountsDroppedRawPacketsButNotRefusedSendto) {
  constexpr int kRaw = 3, kUdp = 2;
  Strings actions;
  for (int i = 0; i < kRaw; ++i)
    actions.insert(actions.end(), {"icmp", "127.0.0.2"});
  for (int i = 0; i < kUdp; ++i)
    actions.insert(actions.end(), {"udp_sendto", "127.0.0.2"});
  CommandResult result = run({"IPAccounting=yes", "IPAddressDeny=127.0.0.2"}, probe_command(actions));
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_EQ(result.out.find("ok"), std::string::npos) << "every send is refused\n" << result.out;
  std::string exit = last_record("exit");
  EXPECT_EQ(json_u64(exit, "ip_dropped_egress_packets"), static_cast<std::uint64_t>(kRaw))
      << exit;
  EXPECT_EQ(json_u64(exit, "ip_egress_packets"), 0u) << exit;
  EXPECT_EQ(json_u64(exit, "ip_dropped_ingress_packets"), 0u) << exit;
}

// Without IPAccounting= the exit record carries no counters.
TEST_F(IpFilterRun, ExitRecordHasNoIpCountersWithoutIpAccounting) {
  CommandResult result = run({"IPAddressDeny=127.0.0.2"}, {"/bin/true"});
  ASSERT_EQ(result.status, 0) << result.err;
  std::string exit = last_record("exit");
  ASSERT_FALSE(exit.empty());
  EXPECT_EQ(exit.find("ip_egress_packets"), std::string::npos) << exit;
}

// ---- several runs under one parent ----

// Two runs at once, one denying 127.0.0.2 and one allowing it (inside a deny of the rest of
// loopback): both probe while the other is alive; each sees only its own rules.
TEST_F(IpFilterRun, ConcurrentRunsUnderOneParentKeepTheirOwnPolicies) {
  std::string a = tmp_ / "a-ready", b = tmp_ / "b-ready";
  auto denier = std::async(std::launch::async, [&] {
    return run({"IPAddressDeny=127.0.0.2"},
               probe_command({"touch", a, "wait", b, "tcp", "127.0.0.2", "tcp", "127.0.0.1"}));
  });
  auto allower = std::async(std::launch::async, [&] {
    return run({"IPAddressDeny=127.0.0.0/8", "IPAddressAllow=127.0.0.2"},
               probe_command({"touch", b, "wait", a, "tcp", "127.0.0.2", "tcp", "127.0.0.1"}));
  });
  CommandResult denied = denier.get(), allowed = allower.get();
  ASSERT_EQ(denied.status, 0) << denied.err;
  ASSERT_EQ(allowed.status, 0) << allowed.err;
  ProbeResults d = parse_probe_output(denied.out), l = parse_probe_output(allowed.out);
  ASSERT_EQ(outcome(d, "wait " + b), "ok") << "the runs did not overlap";
  ASSERT_EQ(outcome(l, "wait " + a), "ok") << "the runs did not overlap";
  EXPECT_EQ(outcome(d, "tcp 127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(d, "tcp 127.0.0.1"), "ok");
  EXPECT_EQ(outcome(l, "tcp 127.0.0.2"), "ok");
  EXPECT_EQ(outcome(l, "tcp 127.0.0.1"), "EPERM");
}

// The programs stay on the parent after a filtered run; a later run without IP directives
// gets a pass-all entry (without any entry it would be refused everything).
TEST_F(IpFilterRun, RunWithoutIpDirectivesUnderFilteredParentCanTalk) {
  ProbeResults first = probe({"IPAddressDeny=127.0.0.2"}, {"tcp", "127.0.0.2"});
  ASSERT_EQ(outcome(first, "tcp 127.0.0.2"), "EPERM");
  UniqueFd parent = parent_->open();
  ASSERT_EQ(test::attached_programs(parent.get(), BPF_CGROUP_INET_EGRESS).size(), 1u)
      << "the set must still be attached, or this test proves nothing";

  ProbeResults second = probe({}, {"tcp", "127.0.0.2", "udp_sendto", "127.0.0.2", "icmp",
                                   "127.0.0.2", "tcp", "::1"});
  EXPECT_EQ(outcome(second, "tcp 127.0.0.2"), "ok");
  EXPECT_EQ(outcome(second, "udp_sendto 127.0.0.2"), "ok");
  EXPECT_EQ(outcome(second, "icmp 127.0.0.2"), "ok");
  EXPECT_EQ(outcome(second, "tcp ::1"), "ok");
}

// A run that started before any filtered run (so without an entry) must keep talking once a
// later filtered run attaches the programs: the attaching run admits it.
TEST_F(IpFilterRun, RunStartedBeforeTheFilterWasAttachedKeepsTalking) {
  std::string started = tmp_ / "started", attached = tmp_ / "attached";
  auto early = std::async(std::launch::async, [&] {
    return run({}, probe_command({"touch", started, "wait", attached, "tcp", "127.0.0.2"}));
  });
  ASSERT_TRUE(wait_for_file(started, 10));
  ProbeResults late = probe({"IPAddressDeny=127.0.0.2"}, {"touch", attached, "tcp", "127.0.0.2"});
  CommandResult first = early.get();
  ASSERT_EQ(first.status, 0) << first.err;
  EXPECT_EQ(outcome(late, "tcp 127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(parse_probe_output(first.out), "tcp 127.0.0.2"), "ok") << first.out;
}

// ---- failure and survival ----

// A pass-all CGROUP_SKB program, as `bpf_prog_load` takes it: r0 = 1; exit.
UniqueFd load_pass_all_skb_program() {
  bpf_insn instructions[2] = {};
  instructions[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  instructions[0].dst_reg = BPF_REG_0;
  instructions[0].imm = 1;
  instructions[1].code = BPF_JMP | BPF_EXIT;
  return UniqueFd(bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "rf_test_excl", "GPL", instructions, 2,
                                nullptr));
}

// An exclusive (flags 0) egress program on the parent's parent forbids any attach below it.
// ringfence must then refuse to run (125, one stderr line naming the IP filter) rather than
// run unfiltered, and take back what it attached before the failure.
TEST_F(IpFilterRun, AttachFailureFailsClosedWithStatus125) {
  std::string parent = parent_->relative() + "/p", marker = tmp_ / "marker";
  UniqueFd grandparent = parent_->open();
  UniqueFd program = load_pass_all_skb_program();
  ASSERT_TRUE(program) << "bpf_prog_load: " << std::strerror(errno);
  ASSERT_EQ(bpf_prog_attach(program.get(), grandparent.get(), BPF_CGROUP_INET_EGRESS, 0), 0)
      << std::strerror(errno);

  CommandResult result = test::run_command(
      {test::ringfence_bin(), "run", "--cgroup-parent", parent, "--audit-log", audit_log(), "-p",
       "IPAddressDeny=127.0.0.2", "--", "/bin/sh", "-c", "touch " + marker});
  EXPECT_EQ(result.status, 125) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_NE(result.err.find("IP filter"), std::string::npos) << result.err;
  EXPECT_FALSE(file_exists(marker)) << "the command ran";

  UniqueFd p(::open((parent_->path() + "/p").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(p);
  for (bpf_attach_type type : {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
                               BPF_CGROUP_UDP4_SENDMSG, BPF_CGROUP_UDP6_SENDMSG,
                               BPF_CGROUP_INET_INGRESS, BPF_CGROUP_INET_EGRESS})
    EXPECT_TRUE(test::attached_programs(p.get(), type).empty())
        << "a program of the failed set stayed attached (type " << type << ")";
  EXPECT_EQ(bpf_prog_detach2(program.get(), grandparent.get(), BPF_CGROUP_INET_EGRESS), 0);
}

// The raw wait status of a child, retrying on EINTR.
int reap(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -1;
  return status;
}

// ringfence, started by hand so that the test can stop and kill it.
pid_t spawn_quiet(const Strings &argv, const Strings &extra_env) {
  Strings env;
  for (char **e = environ; *e; ++e)
    env.emplace_back(*e);
  env.insert(env.end(), extra_env.begin(), extra_env.end());
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    std::vector<char *> args, envp;
    for (const std::string &a : argv)
      args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    for (const std::string &e : env)
      envp.push_back(const_cast<char *>(e.c_str()));
    envp.push_back(nullptr);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

// The supervisor SIGKILLed: its main process dies with it (PDEATHSIG) but a background
// child survives in the run's cgroup. Its entry in the maps was never removed, so it stays
// filtered (not refused everything, not opened up); `ringfence gc` then removes the cgroup.
TEST_F(IpFilterRun, SurvivorOfKilledSupervisorStaysFiltered) {
  std::string forked = tmp_ / "forked", go = tmp_ / "go", out = tmp_ / "result";
  std::string script = "(touch " + forked + "; while [ ! -e " + go +
                       " ]; do sleep 0.02; done; /usr/bin/python3 " + probe_path() +
                       " tcp 127.0.0.2 tcp 127.0.0.1 > " + out + ".tmp; mv " + out + ".tmp " +
                       out + ") & exec sleep 100";
  pid_t supervisor = spawn_quiet(run_argv({"IPAddressDeny=127.0.0.2"}, {"/bin/sh", "-c", script}),
                                 {"RINGFENCE_STOP_AT=running"});
  ASSERT_GT(supervisor, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(supervisor, &status, WUNTRACED), supervisor);
  ASSERT_TRUE(WIFSTOPPED(status)) << "ringfence did not stop at 'running': " << status;
  // The supervisor stops right after the exec; the shell may not have forked yet.
  ASSERT_TRUE(wait_for_file(forked, 10)) << "the background child did not start";
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  ASSERT_EQ(reap(supervisor), SIGKILL);
  test::write_file(go, "");

  ASSERT_TRUE(wait_for_file(out, 10)) << "the survivor did not report";
  ProbeResults results = parse_probe_output(test::read_file(out));
  EXPECT_EQ(outcome(results, "tcp 127.0.0.2"), "EPERM");
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "ok");

  CommandResult gc =
      test::run_command({test::ringfence_bin(), "gc", "--cgroup-parent", parent_->relative()});
  EXPECT_EQ(gc.status, 0) << gc.err;
  EXPECT_NE(gc.out.find("removed "), std::string::npos) << gc.out;
  EXPECT_TRUE(parent_->children().empty());
}

// In a cgroup namespace (a container with its own cgroup2 mount) the parent's path under the
// mount is relative to the namespace root, while the programs compare absolute cgroup
// levels. The run must still get its own rules: 127.0.0.1 passes, 127.0.0.2 is refused.
// (The programs find the run below the parent's id when the level hint is wrong.)
TEST_F(IpFilterRun, RulesApplyInsideACgroupNamespace) {
  std::string ns_root = parent_->path() + "/ns";
  ASSERT_EQ(::mkdir(ns_root.c_str(), 0755), 0) << std::strerror(errno);
  std::string out = tmp_ / "out", procs = ns_root + "/cgroup.procs", mount = parent_->mount();
  Strings argv = {test::ringfence_bin(), "run", "--cgroup-parent", "/p", "--audit-log",
                  audit_log(), "-p", "IPAddressDeny=127.0.0.2", "--", "/usr/bin/python3",
                  probe_path(), "tcp", "127.0.0.1", "tcp", "127.0.0.2"};
  std::vector<char *> args;
  for (std::string &a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    // Into <parent>/ns, then a cgroup namespace rooted there with its own cgroup2 mount.
    int fd = ::open(procs.c_str(), O_WRONLY);
    int output = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || output < 0 || ::write(fd, "0", 1) != 1 ||
        ::unshare(CLONE_NEWCGROUP | CLONE_NEWNS) < 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0 ||
        ::umount2(mount.c_str(), MNT_DETACH) < 0 ||
        ::mount("cgroup2", mount.c_str(), "cgroup2", 0, nullptr) < 0)
      ::_exit(99);
    ::dup2(output, 1);
    ::execve(args[0], args.data(), environ);
    ::_exit(98);
  }
  ASSERT_GT(child, 0);
  int status = reap(child);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << "ringfence (or the namespace setup: 99) failed";
  ProbeResults results = parse_probe_output(test::read_file(out));
  EXPECT_EQ(outcome(results, "tcp 127.0.0.1"), "ok");
  EXPECT_EQ(outcome(results, "tcp 127.0.0.2"), "EPERM");
}

// ---- scale and cleanup ----

// 100,000 deny prefixes (10.x.y.z/32: loaded, never sent to) and one allow: the rules go
// into the tries and the run works; the time is printed for information only.
TEST_F(IpFilterRun, HundredThousandPrefixesLoadAndRun) {
  std::string unit = tmp_ / "many.service";
  std::string text = "[Service]\nExecStart=/bin/true\nIPAddressAllow=127.0.0.1\n";
  text.reserve(3'000'000);
  for (int i = 0; i < 100'000; ++i)
    text += "IPAddressDeny=10." + std::to_string(i >> 16) + "." + std::to_string((i >> 8) & 255) +
            "." + std::to_string(i & 255) + "/32\n";
  test::write_file(unit, text);
  auto start = std::chrono::steady_clock::now();
  CommandResult result = test::run_command({test::ringfence_bin(), "run", "--cgroup-parent",
                                            parent_->relative(), "--audit-log", audit_log(), unit});
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.status, 0) << result.err;
  std::cout << "[ info ] ringfence run with 100,000 prefixes took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms\n";
  std::optional<netfilter::ParentFilter> filter = parent_filter();
  ASSERT_TRUE(filter);
  EXPECT_TRUE(test::map_keys<ip4_rule_key>(filter->maps().deny4.get()).empty())
      << "the run's 100,000 rules must be removed when it ends";
}

// When a filtered run ends, nothing of it is left in the shared maps: no policy entry, no
// rules, no packet state (counters) (the maps serve every later run of the parent, for as long as it lives).
TEST_F(IpFilterRun, FinishedRunLeavesNoEntriesInSharedMaps) {
  ProbeResults results = probe({"IPAccounting=yes", "IPAddressAllow=127.0.0.1 ::1",
                                "IPAddressDeny=127.0.0.0/8 ::/0"},
                               {"tcp", "127.0.0.2"});
  ASSERT_EQ(outcome(results, "tcp 127.0.0.2"), "EPERM") << "the run was not filtered";
  std::optional<netfilter::ParentFilter> filter = parent_filter();
  ASSERT_TRUE(filter) << "no set on the parent";
  const netfilter::FilterMaps &maps = filter->maps();
  EXPECT_TRUE(test::map_keys<std::uint64_t>(maps.policies.get()).empty());
  EXPECT_TRUE(test::map_keys<std::uint64_t>(maps.packet_state.get()).empty());
  EXPECT_TRUE(test::map_keys<ip4_rule_key>(maps.allow4.get()).empty());
  EXPECT_TRUE(test::map_keys<ip4_rule_key>(maps.deny4.get()).empty());
  EXPECT_TRUE(test::map_keys<ip6_rule_key>(maps.allow6.get()).empty());
  EXPECT_TRUE(test::map_keys<ip6_rule_key>(maps.deny6.get()).empty());
}

class IpFilterKilledRun : public IpFilterRun {
protected:
  // Starts a run denying 127.0.0.2, stops its supervisor at "running" and SIGKILLs it: its
  // entries stay in the maps (its RunFilter never ran its destructor). Returns its cgroup id.
  std::uint64_t kill_filtered_run() {
    pid_t supervisor = spawn_quiet(run_argv({"IPAddressDeny=127.0.0.2"}, {"/bin/sleep", "100"}),
                                   {"RINGFENCE_STOP_AT=running"});
    int status = 0;
    EXPECT_EQ(::waitpid(supervisor, &status, WUNTRACED), supervisor);
    EXPECT_TRUE(WIFSTOPPED(status)) << status;
    std::vector<std::string> children = parent_->children();
    EXPECT_EQ(children.size(), 1u);
    struct stat st {};
    if (!children.empty()) {
      EXPECT_EQ(::stat((parent_->path() + "/" + children.front()).c_str(), &st), 0);
    }
    ::kill(supervisor, SIGKILL);
    reap(supervisor);
    return st.st_ino; // a cgroup's id is its inode number
  }

  // How many entries of the cgroup the shared maps hold (policy entry and IPv4 rules).
  std::size_t entries_of(std::uint64_t cgroup_id) const {
    std::optional<netfilter::ParentFilter> filter = parent_filter();
    if (!filter) {
      ADD_FAILURE() << "no set on the parent";
      return 0;
    }
    std::vector<std::uint64_t> policies =
        test::map_keys<std::uint64_t>(filter->maps().policies.get());
    std::vector<ip4_rule_key> deny4 = test::map_keys<ip4_rule_key>(filter->maps().deny4.get());
    return static_cast<std::size_t>(
        std::count(policies.begin(), policies.end(), cgroup_id) +
        std::count_if(deny4.begin(), deny4.end(),
                      [&](const ip4_rule_key &k) { return test::cgroup_of(k) == cgroup_id; }));
  }
};

// `ringfence gc` reaps the killed run's cgroup and removes its entries from the maps.
TEST_F(IpFilterKilledRun, GcRemovesTheEntriesOfTheReapedRun) {
  std::uint64_t killed = kill_filtered_run();
  ASSERT_NE(killed, 0u);
  ASSERT_EQ(entries_of(killed), 2u) << "the killed run left its policy entry and its rule";
  CommandResult gc =
      test::run_command({test::ringfence_bin(), "gc", "--cgroup-parent", parent_->relative()});
  ASSERT_EQ(gc.status, 0) << gc.err;
  EXPECT_TRUE(parent_->children().empty());
  EXPECT_EQ(entries_of(killed), 0u);
}

// Without gc, the next run under the parent reaps the killed run and sweeps its entries.
TEST_F(IpFilterKilledRun, NextRunSweepsTheEntriesOfTheReapedRun) {
  std::uint64_t killed = kill_filtered_run();
  ASSERT_NE(killed, 0u);
  ASSERT_EQ(entries_of(killed), 2u);
  ProbeResults later = probe({"IPAddressDeny=127.0.0.3"}, {"tcp", "127.0.0.3"});
  ASSERT_EQ(outcome(later, "tcp 127.0.0.3"), "EPERM");
  EXPECT_EQ(entries_of(killed), 0u);
}

} // namespace
} // namespace rf
