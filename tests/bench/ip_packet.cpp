// Per-packet cost of the IP filter's cgroup_skb/egress program (bpf/ip_filter.bpf.c) with
// BPF_PROG_TEST_RUN, next to a pass-all CGROUP_SKB program run the same way in the same run.
//
// What is measured, and why it is the real path: since Linux 5.16 the test run's skb belongs
// to a socket made with sk_alloc(), which records the calling task's cgroup like any socket
// (cgroup_sk_alloc). So this process makes a parent cgroup and a run cgroup below it, as
// `ringfence run` does, moves itself into the run, loads the programs with that parent and
// keys the rules by the run's id: every packet takes the path a run's packet takes (the
// run's id below the parent, policy lookup, two header loads, allow and deny trie lookups,
// counters). A check before timing proves it: with its policy entry removed every packet
// must be refused (fail closed), and every destination's verdict must match the deny
// prefixes computed here.
//
// The programs are loaded, never attached, and BPF_PROG_TEST_RUN transmits nothing.
// The kernel times `repeat` runs of one packet per call and reports the mean; each call takes
// the next of the destinations (round-robin), and p50/p99 are over calls.
//
// A cross-check follows: the same programs attached to a new cgroup and timed on real
// loopback datagrams with the kernel's BPF statistics (see real_packets).
//
// Usage: bench-ip-packet [--quick] [--calls N] [--repeat N] [--destinations N]
//          [--real-packets N (0: skip the cross-check)]
#include "cgroup/cgroup.hpp"
#include "netfilter/ip_filter.hpp"
#include "netfilter/ip_filter_skel.hpp"
#include "sandbox_abi.h"
#include "util/bpf_handles.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <optional>
#include <random>
#include <string>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>
#include <unordered_set>
#include <vector>

namespace {

[[noreturn]] void die(const std::string &what) {
  std::fprintf(stderr, "bench-ip-packet: %s\n", what.c_str());
  std::exit(1);
}

int quiet_libbpf(enum libbpf_print_level, const char *format, va_list args) {
  if (std::getenv("RINGFENCE_DEBUG") == nullptr)
    return 0;
  return std::vfprintf(stderr, format, args);
}

// ---- packets ----

constexpr std::size_t kEthLen = 14, kIpLen = 20, kUdpLen = 8, kPayload = 32;
constexpr std::size_t kPacketLen = kEthLen + kIpLen + kUdpLen + kPayload;
using Packet = std::array<std::uint8_t, kPacketLen>;

void put16(std::uint8_t *at, std::uint16_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 8);
  at[1] = static_cast<std::uint8_t>(value);
}

void put32(std::uint8_t *at, std::uint32_t value) {
  put16(at, static_cast<std::uint16_t>(value >> 16));
  put16(at + 2, static_cast<std::uint16_t>(value));
}

// Ethernet + IPv4 + UDP to `dst` (host order). The test run strips the Ethernet header
// (eth_type_trans) and hands the program the skb from the IP header on, as on egress.
Packet udp_packet(std::uint32_t dst) {
  Packet p{};
  put16(&p[12], 0x0800); // ETH_P_IP
  std::uint8_t *ip = &p[kEthLen];
  ip[0] = 0x45;
  put16(ip + 2, static_cast<std::uint16_t>(kIpLen + kUdpLen + kPayload));
  ip[8] = 64;
  ip[9] = 17;                 // UDP
  put32(ip + 12, 0xc0a80002); // 192.168.0.2; egress looks at the destination only
  put32(ip + 16, dst);
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i < kIpLen; i += 2)
    sum += static_cast<std::uint32_t>(ip[i] << 8 | ip[i + 1]);
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  put16(ip + 10, static_cast<std::uint16_t>(~sum));
  std::uint8_t *udp = ip + kIpLen;
  put16(udp, 40000);
  put16(udp + 2, 9); // discard
  put16(udp + 4, static_cast<std::uint16_t>(kUdpLen + kPayload));
  return p;
}

// ---- rules ----

constexpr std::uint32_t kNet10 = 0x0a000000, kNet127 = 0x7f000000;

struct Prefix {
  std::uint32_t addr; // host order, masked
  std::uint32_t length;
};

std::uint32_t mask(std::uint32_t length) {
  return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length);
}

// `count` distinct random /24../32 prefixes inside `net`/8 (seeded: the same every run).
std::vector<Prefix> random_prefixes(std::size_t count, std::uint32_t net, std::mt19937 &rng) {
  std::unordered_set<std::uint64_t> seen;
  std::vector<Prefix> out;
  std::uniform_int_distribution<std::uint32_t> low24(0, 0xffffff), length(24, 32);
  while (out.size() < count) {
    std::uint32_t plen = length(rng);
    std::uint32_t addr = (net | low24(rng)) & mask(plen);
    if (seen.insert(std::uint64_t{addr} << 8 | plen).second)
      out.push_back({addr, plen});
  }
  return out;
}

bool denied(const std::unordered_set<std::uint64_t> &deny, std::uint32_t dst) {
  for (std::uint32_t plen = 24; plen <= 32; ++plen)
    if (deny.count(std::uint64_t{dst & mask(plen)} << 8 | plen))
      return true;
  return false;
}

ip4_rule_key rule_key(std::uint64_t cgroup, Prefix prefix) {
  ip4_rule_key key{};
  key.prefixlen = SANDBOX_CGROUP_BITS + prefix.length;
  std::memcpy(key.cgroup, &cgroup, sizeof key.cgroup);
  std::uint32_t net = htonl(prefix.addr);
  std::memcpy(key.addr, &net, sizeof key.addr);
  return key;
}

// ---- programs ----

struct Program {
  std::string label;
  int fd = -1;
  std::size_t deny_count = 0;
  std::vector<double> ns; // one mean per call
  std::size_t dropped = 0;
  std::vector<double> passed_ns = {}, refused_ns = {}; // the same, by the call's verdict
};

// r0 = 1 (pass); exit. What any cgroup_skb program costs at the least.
rf::UniqueFd load_pass_all() {
  bpf_insn insns[2]{};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = 1;
  insns[1].code = BPF_JMP | BPF_EXIT;
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_CGROUP_INET_EGRESS);
  rf::UniqueFd fd(bpf_prog_load(BPF_PROG_TYPE_CGROUP_SKB, "rf_bench_pass", "GPL", insns, 2, &opts));
  if (!fd)
    die(std::string("loading the pass-all program failed: ") + std::strerror(errno));
  return fd;
}

struct Filter {
  rf::SkelPtr<ip_filter> skel;
  std::uint64_t cgroup = 0;
  std::uint32_t flags = 0;
  std::uint32_t rule_flags = 0; // as ringfence writes them (netfilter::rule_flags)
  bool allow_rules = false; // what ringfence keeps of IPAddressAllow= (netfilter::kernel_rules)
  std::unordered_set<std::uint64_t> deny; // for the expected verdicts
};

// The run's entries as ringfence writes them (ParentFilter::install): `policies` for the
// socket-call hooks, `packet_state` (flags on every CPU, zero counters) for the packet programs.
void set_policy(const Filter &f, bool present) {
  int fd = bpf_map__fd(f.skel->maps.policies), state_fd = bpf_map__fd(f.skel->maps.packet_state);
  sandbox_policy policy{};
  policy.flags = f.flags;
  if (f.flags & SANDBOX_POLICY_FILTER) // as ringfence writes it: which tries hold rules
    policy.flags |= f.rule_flags;
  int cpus = libbpf_num_possible_cpus();
  std::vector<sandbox_packet_state> state(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  for (sandbox_packet_state &s : state)
    s.flags = policy.flags;
  int err = present ? bpf_map_update_elem(state_fd, &f.cgroup, state.data(), BPF_ANY)
                    : bpf_map_delete_elem(state_fd, &f.cgroup);
  if (err >= 0)
    err = present ? bpf_map_update_elem(fd, &f.cgroup, &policy, BPF_ANY)
                  : bpf_map_delete_elem(fd, &f.cgroup);
  if (err < 0)
    die(std::string("writing the policy entry failed: ") + std::strerror(-err));
}

// A fresh skeleton with its own maps: each configuration keeps its tries while all are
// timed interleaved. The rules are what `ringfence run` writes for this cgroup id.
Filter load_filter(std::uint32_t level, std::uint64_t parent, std::uint64_t cgroup,
                   const std::vector<Prefix> &deny, std::uint32_t flags) {
  Filter f;
  f.cgroup = cgroup;
  f.flags = flags;
  f.skel.reset(ip_filter::open());
  if (!f.skel)
    die(std::string("opening the ip_filter object failed: ") + std::strerror(errno));
  f.skel->rodata->parent_cgroup = parent;
  f.skel->rodata->run_level = level;
  if (int err = ip_filter::load(f.skel.get()); err < 0)
    die(std::string("loading the ip_filter programs failed: ") + std::strerror(-err));
  std::uint8_t one = 1;
  // IPAddressAllow=127.0.0.1 meets none of the deny prefixes (10.0.0.0/8): ringfence does
  // not write it (kernel_rules), nor does this.
  auto as_prefix = [](Prefix p) {
    rf::IpPrefix out{AF_INET, {}, static_cast<std::uint8_t>(p.length)};
    std::uint32_t network = htonl(p.addr);
    std::memcpy(out.addr.data(), &network, 4);
    return out;
  };
  std::vector<rf::IpPrefix> deny_prefixes;
  for (const Prefix &p : deny)
    deny_prefixes.push_back(as_prefix(p));
  rf::netfilter::KernelRules rules =
      rf::netfilter::kernel_rules({as_prefix({0x7f000001, 32})}, deny_prefixes);
  f.allow_rules = !rules.allow.empty();
  f.rule_flags = rf::netfilter::rule_flags(rules);
  ip4_rule_key allow = rule_key(cgroup, {0x7f000001, 32});
  if (f.allow_rules &&
      bpf_map_update_elem(bpf_map__fd(f.skel->maps.allow4), &allow, &one, BPF_ANY) < 0)
    die(std::string("writing the allow rule failed: ") + std::strerror(errno));
  for (const Prefix &p : deny) {
    ip4_rule_key key = rule_key(cgroup, p);
    if (bpf_map_update_elem(bpf_map__fd(f.skel->maps.deny4), &key, &one, BPF_ANY) < 0)
      die(std::string("writing a deny rule failed: ") + std::strerror(errno));
    f.deny.insert(std::uint64_t{p.addr} << 8 | p.length);
  }
  set_policy(f, true);
  return f;
}

// One BPF_PROG_TEST_RUN call: the program's verdict on the packet, and the kernel's mean
// time per run over `repeat` runs.
std::pair<std::uint32_t, std::uint32_t> test_run(int fd, const Packet &packet, int repeat) {
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
              .data_size_in = static_cast<std::uint32_t>(packet.size()), .repeat = repeat);
  if (int err = bpf_prog_test_run_opts(fd, &opts); err < 0)
    die(std::string("BPF_PROG_TEST_RUN failed: ") + std::strerror(-err));
  return {opts.retval, opts.duration};
}

std::uint64_t egress_packets(const Filter &f) {
  int cpus = libbpf_num_possible_cpus();
  std::vector<sandbox_packet_state> per_cpu(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  if (bpf_map_lookup_elem(bpf_map__fd(f.skel->maps.packet_state), &f.cgroup, per_cpu.data()) < 0)
    die("reading the counters failed");
  std::uint64_t total = 0;
  for (const sandbox_packet_state &state : per_cpu) {
    const sandbox_counters &c = state.counters;
    total += c.dropped_packets[SANDBOX_EGRESS];
    for (std::uint64_t packets : c.packets[SANDBOX_EGRESS])
      total += packets;
  }
  return total;
}

// Proves that the timed runs take the real path, not the early pass for cgroup id 0.
std::size_t check_real_path(const Filter &f, const std::vector<Packet> &packets,
                            const std::vector<std::uint32_t> &destinations) {
  int fd = bpf_program__fd(f.skel->progs.rf_egress);
  set_policy(f, false);
  if (test_run(fd, packets[0], 1).first != 0)
    die("without a policy entry the packet passed: the test run's socket is not in the run "
        "cgroup (kernel older than 5.16?), so the program would pass every packet early and "
        "the timings would mean nothing");
  set_policy(f, true);
  std::uint64_t counted = (f.flags & SANDBOX_POLICY_ACCOUNTING) ? egress_packets(f) : 0;
  std::size_t dropped = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    bool expect_drop = (f.flags & SANDBOX_POLICY_FILTER) && denied(f.deny, destinations[i]);
    std::uint32_t verdict = test_run(fd, packets[i], 1).first;
    if (verdict != (expect_drop ? 0u : 1u))
      die("a verdict differs from the deny rules; the program does not read the tries");
    dropped += expect_drop;
  }
  if ((f.flags & SANDBOX_POLICY_ACCOUNTING) && egress_packets(f) - counted != packets.size())
    die("the counters missed packets; the program does not take the accounting path");
  return dropped;
}

// ---- cgroups ----

// A parent cgroup below this process's and a run cgroup below it, as `ringfence run` makes
// them, with this process moved into the run (the test run's socket is charged to it).
// Static, so that std::exit (die) also moves the process back and removes both.
struct TestCgroups {
  rf::cgroup::CgroupDir parent, run;
  std::string home;    // this process's own cgroup directory, to return to
  std::uint32_t level; // the run's level as the path says (a hint for the program)
  ~TestCgroups() {
    rf::UniqueFd fd(::open(home.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd)
      (void)rf::cgroup::write_cgroup_file(fd.get(), "cgroup.procs", "0");
  } // then `run` and `parent` are removed, in that order
};
std::optional<TestCgroups> test_cgroups;

const TestCgroups &enter_test_cgroups() {
  auto mount = rf::cgroup::find_cgroup2_mount();
  if (!mount)
    die(mount.error().message());
  auto path = rf::cgroup::own_cgroup_path();
  if (!path)
    die(path.error().message());
  std::string home = *mount + (*path == "/" ? "" : *path);
  auto parent = rf::cgroup::CgroupDir::create(home + "/rf-bench-ip-" + std::to_string(::getpid()));
  if (!parent)
    die(parent.error().message());
  auto run = rf::cgroup::CgroupDir::create(parent->path() + "/run");
  if (!run)
    die(run.error().message());
  std::uint32_t level = 2; // the path's components, plus parent and run
  for (std::size_t i = 1; i < path->size(); ++i)
    level += (*path)[i] == '/' && (*path)[i - 1] != '/';
  level += *path != "/";
  test_cgroups.emplace(std::move(*parent), std::move(*run), home, level);
  if (auto moved = rf::cgroup::write_cgroup_file(test_cgroups->run.fd(), "cgroup.procs", "0");
      !moved)
    die(moved.error().message());
  return *test_cgroups;
}

// ---- cross-check on real packets ----

struct RunStats {
  std::uint64_t ns = 0, count = 0;
};

RunStats run_stats(int prog_fd) {
  bpf_prog_info info{};
  std::uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &length) < 0)
    die(std::string("reading a program's statistics failed: ") + std::strerror(errno));
  return {info.run_time_ns, info.run_cnt};
}

// Sends `count` UDP datagrams, round-robin over `dsts` (all in 127.0.0.0/8: loopback only),
// from a child process, in the run cgroup like this one. Denied ones fail with EPERM, ignored.
void send_from_run(const std::vector<std::uint32_t> &dsts, int count) {
  pid_t pid = ::fork();
  if (pid < 0)
    die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0)
      ::_exit(3);
    char payload[kPayload] = {};
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9); // discard; nothing listens, the kernel answers port unreachable
    for (int i = 0; i < count; ++i) {
      to.sin_addr.s_addr = htonl(dsts[static_cast<std::size_t>(i) % dsts.size()]);
      ::sendto(sock, payload, sizeof payload, 0, reinterpret_cast<const sockaddr *>(&to),
               sizeof to);
    }
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    die("the sending child failed (status " + std::to_string(status) + ")");
}

struct Counted {
  std::uint64_t passed = 0, dropped = 0;
};

Counted counted(const Filter &f) {
  int cpus = libbpf_num_possible_cpus();
  std::vector<sandbox_packet_state> per_cpu(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  Counted total;
  if (bpf_map_lookup_elem(bpf_map__fd(f.skel->maps.packet_state), &f.cgroup, per_cpu.data()) < 0)
    return total;
  for (const sandbox_packet_state &state : per_cpu) {
    const sandbox_counters &c = state.counters;
    for (std::uint64_t packets : c.packets[SANDBOX_EGRESS])
      total.passed += packets;
    total.dropped += c.dropped_packets[SANDBOX_EGRESS];
  }
  return total;
}

// The same programs attached (BPF_F_ALLOW_MULTI) to the parent cgroup, as ringfence attaches
// them, a child in the run sending real datagrams over loopback, each program's time from the
// kernel's BPF statistics: the cost on the real path with caches as real traffic leaves them, and
// without the network stack (the kernel times each program run alone). The pass-all
// program is attached in front of each configuration, so every packet runs both: the
// baseline is interleaved by construction.
void real_packets(const TestCgroups &cg, int packets, std::mt19937 &rng) {
  std::printf("\ncross-check on real packets: the programs attached to the parent cgroup, a "
              "process in the run sending %d UDP datagrams\n  over loopback to 1000 addresses "
              "in 127.0.0.0/8 (round-robin), time per run from BPF_ENABLE_STATS\n",
              packets);
  rf::UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
  if (!stats) {
    std::printf("  skipped: BPF_ENABLE_STATS: %s\n", std::strerror(errno));
    return;
  }
  stats.reset(); // enabled only while packets are sent

  std::vector<std::uint32_t> dsts;
  std::uniform_int_distribution<std::uint32_t> low24(0, 0xffffff);
  for (int i = 0; i < 1000; ++i)
    dsts.push_back(kNet127 | low24(rng));
  std::vector<Prefix> deny_100k = random_prefixes(100000, kNet127, rng);
  std::vector<Prefix> deny_1k(deny_100k.begin(), deny_100k.begin() + 1000);
  constexpr std::uint32_t kFilterAcct = SANDBOX_POLICY_FILTER | SANDBOX_POLICY_ACCOUNTING;
  std::vector<Filter> filters;
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), {}, 0));
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), {}, kFilterAcct));
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), deny_1k, kFilterAcct));
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), deny_100k, kFilterAcct));
  filters.push_back(
      load_filter(cg.level, cg.parent.id(), cg.run.id(), deny_100k, SANDBOX_POLICY_FILTER));
  const char *labels[] = {"rf_egress, no IP policy", "rf_egress, 0 deny, acct",
                          "rf_egress, 1k deny, acct", "rf_egress, 100k deny, acct",
                          "rf_egress, 100k deny, no acct"};
  rf::UniqueFd pass_all = load_pass_all();
  std::printf("\n  %-31s %6s %8s %8s %9s %10s %9s\n", "program", "drop%", "runs", "ns/run", "ratio",
              "- base", "base ns");
  // One configuration at a time, as in production where one set of tries serves a packet:
  // the others' tries would otherwise compete for the same caches.
  for (std::size_t i = 0; i < filters.size(); ++i) {
    const int fds[] = {pass_all.get(), bpf_program__fd(filters[i].skel->progs.rf_egress)};
    for (int fd : fds)
      if (bpf_prog_attach(fd, cg.parent.fd(), BPF_CGROUP_INET_EGRESS, BPF_F_ALLOW_MULTI) < 0)
        die(std::string("attaching to the test cgroup failed: ") + std::strerror(errno));
    send_from_run(dsts, packets / 10); // warm-up, not counted
    Counted counted_before = counted(filters[i]);
    stats.reset(bpf_enable_stats(BPF_STATS_RUN_TIME));
    RunStats before[] = {run_stats(fds[0]), run_stats(fds[1])};
    send_from_run(dsts, packets);
    RunStats after[] = {run_stats(fds[0]), run_stats(fds[1])};
    stats.reset();
    for (int fd : fds)
      bpf_prog_detach2(fd, cg.parent.fd(), BPF_CGROUP_INET_EGRESS);

    auto ns_per_run = [&](int k) {
      std::uint64_t runs = after[k].count - before[k].count;
      return runs ? static_cast<double>(after[k].ns - before[k].ns) / static_cast<double>(runs)
                  : 0.0;
    };
    double base = ns_per_run(0), ns = ns_per_run(1);
    char drop[16] = "-";
    if (filters[i].flags & SANDBOX_POLICY_ACCOUNTING) {
      Counted c = counted(filters[i]);
      double all = static_cast<double>(c.passed + c.dropped - counted_before.passed -
                                       counted_before.dropped);
      double dropped = static_cast<double>(c.dropped - counted_before.dropped);
      std::snprintf(drop, sizeof drop, "%.1f", all > 0 ? 100.0 * dropped / all : 0.0);
    }
    std::printf("  %-31s %6s %8llu %8.0f %8.2fx %10.0f %9.0f\n", labels[i], drop,
                static_cast<unsigned long long>(after[1].count - before[1].count), ns, ns / base,
                ns - base, base);
  }
  std::printf("  (drop%% from the programs' own counters; the kernel's run time includes its "
              "clock reads, as the baseline's does)\n");
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

int positive_arg(int argc, char **argv, int &i) {
  if (i + 1 >= argc || std::atoi(argv[i + 1]) <= 0)
    die(std::string(argv[i]) + " needs a positive number");
  return std::atoi(argv[++i]);
}

} // namespace

int main(int argc, char **argv) {
  int calls = 5000, repeat = 1000, destinations = 1000, real = 100000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--quick") {
      calls = 1000;
      real = 20000;
    } else if (arg == "--real-packets")
      real = std::atoi(i + 1 < argc ? argv[++i] : "0");
    else if (arg == "--calls")
      calls = positive_arg(argc, argv, i);
    else if (arg == "--repeat")
      repeat = positive_arg(argc, argv, i);
    else if (arg == "--destinations")
      destinations = positive_arg(argc, argv, i);
    else
      die("usage: bench-ip-packet [--quick] [--calls N] [--repeat N] [--destinations N] "
          "[--real-packets N (0: skip)]");
  }
  libbpf_set_print(quiet_libbpf);

  const TestCgroups &cg = enter_test_cgroups();

  std::mt19937 rng(20240601);
  std::vector<std::uint32_t> dsts;
  std::vector<Packet> packets;
  std::uniform_int_distribution<std::uint32_t> low24(0, 0xffffff);
  for (int i = 0; i < destinations; ++i) {
    dsts.push_back(kNet10 | low24(rng));
    packets.push_back(udp_packet(dsts.back()));
  }
  std::vector<Prefix> deny_100k = random_prefixes(100000, kNet10, rng);
  std::vector<Prefix> deny_1k(deny_100k.begin(), deny_100k.begin() + 1000);

  constexpr std::uint32_t kFilterAcct = SANDBOX_POLICY_FILTER | SANDBOX_POLICY_ACCOUNTING;
  rf::UniqueFd pass_all = load_pass_all();
  std::vector<Filter> filters;
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), {}, 0));
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), {}, kFilterAcct));
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), deny_1k, kFilterAcct));
  filters.push_back(load_filter(cg.level, cg.parent.id(), cg.run.id(), deny_100k, kFilterAcct));
  filters.push_back(
      load_filter(cg.level, cg.parent.id(), cg.run.id(), deny_100k, SANDBOX_POLICY_FILTER));

  std::vector<Program> programs(6);
  programs[0] = {"pass-all (2 insns, baseline)", pass_all.get(), 0, {}, 0};
  programs[1] = {"rf_egress, no IP policy", -1, 0, {}, 0};
  programs[2] = {"rf_egress, 0 deny, acct", -1, 0, {}, 0};
  programs[3] = {"rf_egress, 1k deny, acct", -1, 1000, {}, 0};
  programs[4] = {"rf_egress, 100k deny, acct", -1, 100000, {}, 0};
  programs[5] = {"rf_egress, 100k deny, no acct", -1, 100000, {}, 0};
  for (std::size_t i = 0; i < filters.size(); ++i) {
    programs[i + 1].fd = bpf_program__fd(filters[i].skel->progs.rf_egress);
    programs[i + 1].dropped = check_real_path(filters[i], packets, dsts);
  }

  for (int call = 0; call < calls / 10; ++call) // warm-up: JIT images, trie nodes, slabs
    for (Program &p : programs)
      test_run(p.fd, packets[static_cast<std::size_t>(call) % packets.size()], repeat);
  // Interleaved, and the order rotates per call, so that noise and cache effects of the
  // machine hit every program alike.
  for (int call = 0; call < calls; ++call) {
    const Packet &packet = packets[static_cast<std::size_t>(call) % packets.size()];
    for (std::size_t k = 0; k < programs.size(); ++k) {
      Program &p = programs[(k + static_cast<std::size_t>(call)) % programs.size()];
      auto [verdict, ns] = test_run(p.fd, packet, repeat);
      p.ns.push_back(ns);
      (verdict ? p.passed_ns : p.refused_ns).push_back(ns);
    }
  }

  utsname uts{};
  uname(&uts);
  std::printf("bench-ip-packet: cgroup_skb/egress (rf_egress of bpf/ip_filter.bpf.c) per packet, "
              "BPF_PROG_TEST_RUN\n");
  std::printf("  kernel %s; this process in %s (id %llu) as a run below its parent\n", uts.release,
              cg.run.path().c_str(), static_cast<unsigned long long>(cg.run.id()));
  std::printf("  %d IPv4/UDP packets to distinct addresses in 10.0.0.0/8, round-robin; %d calls "
              "x repeat %d per program, interleaved\n",
              destinations, calls, repeat);
  std::printf("  rules: IPAddressAllow=127.0.0.1 plus N random /24../32 deny prefixes in "
              "10.0.0.0/8 (seeded)\n");
  std::printf("  ns/packet = the kernel's mean over one call's repeats; p50/p99 over calls\n");
  std::printf("  verified first: every verdict matches the rules, counters count every packet\n\n");
  const Program &base = programs[0];
  double base_p50 = percentile(base.ns, 0.5);
  std::printf("  %-31s %6s %8s %8s %9s %10s\n", "program", "drop%", "p50 ns", "p99 ns", "p50 ratio",
              "p50 - base");
  for (const Program &p : programs) {
    double p50 = percentile(p.ns, 0.5);
    std::printf("  %-31s %6.1f %8.0f %8.0f %8.2fx %10.0f\n", p.label.c_str(),
                100.0 * static_cast<double>(p.dropped) / static_cast<double>(packets.size()), p50,
                percentile(p.ns, 0.99), p50 / base_p50, p50 - base_p50);
  }
  // A refused packet also costs the audit trail's counting (a lookup and atomic adds in
  // the shared denials table): the rows with refusals mix two kinds of calls.
  std::printf("\n  %-31s %17s %17s   (p50 - base)\n", "by verdict", "passed p50/p99",
              "refused p50/p99");
  for (const Program &p : programs) {
    if (p.refused_ns.empty())
      continue;
    std::printf("  %-31s %8.0f %8.0f %8.0f %8.0f   (%.0f, %.0f)\n", p.label.c_str(),
                percentile(p.passed_ns, 0.5), percentile(p.passed_ns, 0.99),
                percentile(p.refused_ns, 0.5), percentile(p.refused_ns, 0.99),
                percentile(p.passed_ns, 0.5) - base_p50, percentile(p.refused_ns, 0.5) - base_p50);
  }
  double p0 = percentile(programs[2].ns, 0.5), p100k = percentile(programs[4].ns, 0.5);
  std::printf("\n  100k deny vs 0 deny (acct): p50 %.0f vs %.0f ns, ratio %.2fx  "
              "(target: <= 60 ns/packet, flat in the number of prefixes)\n",
              p100k, p0, p100k / p0);
  if (real > 0)
    real_packets(cg, real, rng);
  return 0;
}
