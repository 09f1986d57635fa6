// ParentFilter/RunFilter against the live kernel: one program set per parent, per-run entries
// in the shared maps, sweeping, and sets of other builds. Needs root. The cgroup ids used
// for entries are made up: the maps are keyed by number, no cgroup has to exist.
#include "cgroup/invocations.hpp"
#include "netfilter/ip_filter.hpp"
#include "netfilter/ip_filter_skel.hpp"
#include "util/bpf_handles.hpp"
#include "policy/ip_prefix.hpp"
#include "sandbox_abi.h"

#include "ip_filter_fixture.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <bpf/bpf.h>
#include <cstring>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <set>
#include <sys/xattr.h>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rf::netfilter {
namespace {

using test::attached_programs;
using test::cgroup_of;
using test::IpTestParent;
using test::map_keys;

constexpr bpf_attach_type kHooks[] = {BPF_CGROUP_INET4_CONNECT, BPF_CGROUP_INET6_CONNECT,
                                      BPF_CGROUP_UDP4_SENDMSG,  BPF_CGROUP_UDP6_SENDMSG,
                                      BPF_CGROUP_INET_INGRESS,  BPF_CGROUP_INET_EGRESS};

std::uint64_t parent_id(const IpTestParent &parent) {
  Result<std::uint64_t> id = cgroup::cgroup_id(parent.path());
  EXPECT_TRUE(id);
  return id ? *id : 0;
}

int run_level_below(const IpTestParent &parent) {
  return cgroup::cgroup_level(parent.mount(), parent.path()) + 1;
}

std::vector<IpPrefix> prefixes(std::string_view word) {
  Result<std::vector<IpPrefix>> parsed = parse_ip_prefix_word(word);
  EXPECT_TRUE(parsed) << word;
  return parsed ? *parsed : std::vector<IpPrefix>{};
}

Policy filtered_policy() {
  Policy policy;
  policy.ip_allow = prefixes("127.0.0.1");
  policy.ip_deny = prefixes("127.0.0.0/8");
  std::vector<IpPrefix> v6 = prefixes("::1");
  policy.ip_deny.insert(policy.ip_deny.end(), v6.begin(), v6.end());
  policy.ip_accounting = true;
  return policy;
}

std::uint32_t map_id(int map_fd) {
  bpf_map_info info{};
  std::uint32_t length = sizeof info;
  EXPECT_EQ(bpf_obj_get_info_by_fd(map_fd, &info, &length), 0) << std::strerror(errno);
  return info.id;
}

// Loads this object as another ringfence build would have (a different build_id in its
// .rodata) and attaches its programs to the parent, as that build's attach() does.
// Returns the id of its egress program.
std::uint32_t attach_other_build(int parent_fd, int run_level) {
  SkelPtr<ip_filter> skel(ip_filter::open());
  EXPECT_TRUE(skel) << "ip_filter::open: " << std::strerror(errno);
  if (!skel)
    return 0;
  skel->rodata->run_level = static_cast<__u32>(run_level);
  skel->rodata->build_id = build_id() + 1;
  EXPECT_EQ(ip_filter::load(skel.get()), 0);
  const std::pair<bpf_program *, bpf_attach_type> programs[] = {
      {skel->progs.rf_connect4, BPF_CGROUP_INET4_CONNECT},
      {skel->progs.rf_connect6, BPF_CGROUP_INET6_CONNECT},
      {skel->progs.rf_sendmsg4, BPF_CGROUP_UDP4_SENDMSG},
      {skel->progs.rf_sendmsg6, BPF_CGROUP_UDP6_SENDMSG},
      {skel->progs.rf_ingress, BPF_CGROUP_INET_INGRESS},
      {skel->progs.rf_egress, BPF_CGROUP_INET_EGRESS}};
  for (const auto &[program, hook] : programs)
    EXPECT_EQ(bpf_prog_attach(bpf_program__fd(program), parent_fd, hook, BPF_F_ALLOW_MULTI), 0)
        << std::strerror(errno);
  std::vector<std::uint32_t> egress = attached_programs(parent_fd, BPF_CGROUP_INET_EGRESS);
  return egress.size() == 1 ? egress.front() : 0;
}

// The build_id in the .rodata of the attached program with this id.
std::uint64_t build_of(std::uint32_t program_id) {
  UniqueFd program(bpf_prog_get_fd_by_id(program_id));
  if (!program)
    return 0;
  std::uint32_t ids[16];
  bpf_prog_info info{};
  info.nr_map_ids = 16;
  info.map_ids = reinterpret_cast<std::uint64_t>(ids);
  std::uint32_t length = sizeof info;
  if (bpf_obj_get_info_by_fd(program.get(), &info, &length) < 0)
    return 0;
  for (std::uint32_t i = 0; i < std::min<std::uint32_t>(info.nr_map_ids, 16); ++i) {
    UniqueFd map(bpf_map_get_fd_by_id(ids[i]));
    bpf_map_info map_info{};
    std::uint32_t map_length = sizeof map_info;
    ip_filter::ip_filter__rodata rodata{};
    std::uint32_t zero = 0;
    if (map && bpf_obj_get_info_by_fd(map.get(), &map_info, &map_length) == 0 &&
        std::string_view(map_info.name).ends_with(".rodata") &&
        map_info.value_size == sizeof rodata &&
        bpf_map_lookup_elem(map.get(), &zero, &rodata) == 0)
      return rodata.build_id;
  }
  return 0;
}

sandbox_policy policy_entry(const ParentFilter &filter, std::uint64_t cgroup_id) {
  sandbox_policy entry{};
  entry.flags = 0xdead;
  EXPECT_EQ(bpf_map_lookup_elem(filter.maps().policies.get(), &cgroup_id, &entry), 0)
      << "no policy entry for " << cgroup_id;
  return entry;
}

// Every CPU's copy of a run's packet_state entry.
std::vector<sandbox_packet_state> packet_state(const ParentFilter &filter, std::uint64_t cgroup_id) {
  int cpus = libbpf_num_possible_cpus();
  std::vector<sandbox_packet_state> per_cpu(static_cast<std::size_t>(cpus > 0 ? cpus : 1));
  EXPECT_EQ(bpf_map_lookup_elem(filter.maps().packet_state.get(), &cgroup_id, per_cpu.data()), 0)
      << "no packet_state entry for " << cgroup_id;
  return per_cpu;
}

TEST(ParentFilter, FindOnBareParentFindsNothing) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<std::optional<ParentFilter>> found = ParentFilter::find(fd.get());
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_FALSE(*found);
}

// Attaching is once per parent: a second attach finds the set and shares its maps, so
// there is one program per hook however many runs come.
TEST(ParentFilter, AttachTwiceOnOneParentReturnsTheSameSet) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<ParentFilter> first = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(first) << first.error().message();
  Result<ParentFilter> second = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), true);
  ASSERT_TRUE(second) << second.error().message();

  for (bpf_attach_type hook : kHooks)
    EXPECT_EQ(attached_programs(fd.get(), hook).size(), 1u) << "hook " << hook;
  EXPECT_EQ(map_id(first->maps().policies.get()), map_id(second->maps().policies.get()));
  EXPECT_EQ(map_id(first->maps().deny4.get()), map_id(second->maps().deny4.get()));

  Result<std::optional<ParentFilter>> found = ParentFilter::find(fd.get());
  ASSERT_TRUE(found && *found);
  EXPECT_EQ(map_id((*found)->maps().packet_state.get()), map_id(first->maps().packet_state.get()));
}

// find() reads the parent's advert (trusted.ringfence.ip_filter) and opens the maps it
// names; without it, or with one that does not describe an attached set of this build, it
// asks the programs themselves, and writes the advert again.
TEST(ParentFilter, FindTrustsTheAdvertOnlyForAnAttachedSetOfThisBuild) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<ParentFilter> attached =
      ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(attached) << attached.error().message();
  const char *xattr = "trusted.ringfence.ip_filter";
  char advert[512] = {};
  ASSERT_GT(::fgetxattr(fd.get(), xattr, advert, sizeof advert - 1), 0);
  EXPECT_NE(std::string_view(advert).find("policies="), std::string_view::npos) << advert;

  auto found_policies = [&] {
    Result<std::optional<ParentFilter>> found = ParentFilter::find(fd.get());
    EXPECT_TRUE(found) << found.error().message();
    return found && *found ? map_id((*found)->maps().policies.get()) : 0u;
  };
  std::uint32_t policies = map_id(attached->maps().policies.get());
  EXPECT_EQ(found_policies(), policies);
  // An advert that names other maps than the set uses under those names is not believed:
  // rules written to a swapped allow4 and deny4 would let everything pass.
  auto swap_ids = [&](const char *a, const char *b) {
    std::string text(advert);
    auto id_of = [&](const std::string &name) {
      std::size_t at = text.find(" " + name + "=");
      return text.substr(at + name.size() + 2, text.find(' ', at + 1) - at - name.size() - 2);
    };
    std::string id_a = id_of(a), id_b = id_of(b);
    text.replace(text.find(std::string(" ") + a + "="), std::strlen(a) + 2 + id_a.size(),
                 std::string(" ") + a + "=" + id_b);
    text.replace(text.find(std::string(" ") + b + "="), std::strlen(b) + 2 + id_b.size(),
                 std::string(" ") + b + "=" + id_a);
    return text;
  };
  for (auto [a, b] : {std::pair{"allow4", "deny4"}, {"policies", "denials"}}) {
    std::string swapped = swap_ids(a, b);
    ASSERT_NE(swapped, std::string(advert));
    ASSERT_EQ(::fsetxattr(fd.get(), xattr, swapped.data(), swapped.size(), 0), 0);
    Result<std::optional<ParentFilter>> found = ParentFilter::find(fd.get());
    ASSERT_TRUE(found && *found);
    EXPECT_EQ(map_id((*found)->maps().policies.get()), policies) << a << " and " << b;
    EXPECT_EQ(map_id((*found)->maps().deny4.get()), map_id(attached->maps().deny4.get()));
    EXPECT_EQ(map_id((*found)->maps().allow4.get()), map_id(attached->maps().allow4.get()));
    char rewritten[512] = {};
    ASSERT_GT(::fgetxattr(fd.get(), xattr, rewritten, sizeof rewritten - 1), 0);
    EXPECT_STREQ(rewritten, advert) << "the advert is written again from the kernel's ids";
  }

  ASSERT_EQ(::fremovexattr(fd.get(), xattr), 0);
  EXPECT_EQ(found_policies(), policies);
  EXPECT_GT(::fgetxattr(fd.get(), xattr, advert, sizeof advert - 1), 0) << "not written again";

  // An advert naming programs that are not attached (ids of nothing) is not believed.
  std::string stale = "build=0000000000000000 programs=1,2,3,4,5,6 policies=1";
  ASSERT_EQ(::fsetxattr(fd.get(), xattr, stale.data(), stale.size(), 0), 0);
  EXPECT_EQ(found_policies(), policies);
  std::string other_programs = std::string(advert);
  std::size_t programs_at = other_programs.find("programs=");
  ASSERT_NE(programs_at, std::string::npos);
  other_programs.replace(programs_at, other_programs.find(' ', programs_at) - programs_at,
                         "programs=1,2,3,4,5,6");
  ASSERT_EQ(::fsetxattr(fd.get(), xattr, other_programs.data(), other_programs.size(), 0), 0);
  EXPECT_EQ(found_policies(), policies);
}

TEST(ParentFilter, InstallWritesTheRunsEntriesAndItsDestructorRemovesThem) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<ParentFilter> filter = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(filter) << filter.error().message();
  const FilterMaps &maps = filter->maps();
  constexpr std::uint64_t kRun = 4242;
  {
    Result<RunFilter> run = filter->install(kRun, filtered_policy());
    ASSERT_TRUE(run) << run.error().message();
    // Filter, accounting, and which tries hold the run's rules.
    EXPECT_EQ(policy_entry(*filter, kRun).flags, policy_flags(filtered_policy()));
    EXPECT_EQ(policy_entry(*filter, kRun).flags & (SANDBOX_POLICY_FILTER | SANDBOX_POLICY_ACCOUNTING),
              SANDBOX_POLICY_FILTER | SANDBOX_POLICY_ACCOUNTING);
    std::vector<ip4_rule_key> allow4 = map_keys<ip4_rule_key>(maps.allow4.get());
    std::vector<ip4_rule_key> deny4 = map_keys<ip4_rule_key>(maps.deny4.get());
    std::vector<ip6_rule_key> deny6 = map_keys<ip6_rule_key>(maps.deny6.get());
    ASSERT_EQ(allow4.size(), 1u);
    ASSERT_EQ(deny4.size(), 1u);
    ASSERT_EQ(deny6.size(), 1u);
    EXPECT_EQ(cgroup_of(allow4[0]), kRun);
    EXPECT_EQ(allow4[0].prefixlen, 64u + 32u);
    EXPECT_EQ(deny4[0].prefixlen, 64u + 8u);
    EXPECT_EQ(deny4[0].addr[0], 127);
    EXPECT_EQ(deny6[0].prefixlen, 64u + 128u);
    EXPECT_EQ(map_keys<std::uint64_t>(maps.packet_state.get()), std::vector<std::uint64_t>{kRun});
    for (const sandbox_packet_state &state : packet_state(*filter, kRun))
      EXPECT_EQ(state.flags, policy_flags(filtered_policy()));
    Result<IpCounters> counters = run->counters();
    ASSERT_TRUE(counters) << counters.error().message();
    EXPECT_EQ(counters->egress_packets, 0u);
  }
  EXPECT_TRUE(map_keys<std::uint64_t>(maps.policies.get()).empty());
  EXPECT_TRUE(map_keys<std::uint64_t>(maps.packet_state.get()).empty());
  EXPECT_TRUE(map_keys<ip4_rule_key>(maps.allow4.get()).empty());
  EXPECT_TRUE(map_keys<ip4_rule_key>(maps.deny4.get()).empty());
  EXPECT_TRUE(map_keys<ip6_rule_key>(maps.deny6.get()).empty());
}

// A run without IP directives under a filtered parent gets an entry that passes everything
// (no entry would mean: refused everything).
TEST(ParentFilter, InstallWithoutIpDirectivesWritesAPassAllEntry) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<ParentFilter> filter = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(filter) << filter.error().message();
  Result<RunFilter> run = filter->install(7, Policy{});
  ASSERT_TRUE(run) << run.error().message();
  EXPECT_EQ(policy_entry(*filter, 7).flags, 0u);
  // The packet programs' entry too: without it every packet would be refused.
  for (const sandbox_packet_state &state : packet_state(*filter, 7))
    EXPECT_EQ(state.flags, 0u);
}

// admit() is for runs older than the set: pass-all, and never over a run's own entry.
TEST(ParentFilter, AdmitAddsPassAllEntryButKeepsAnExistingOne) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<ParentFilter> filter = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(filter) << filter.error().message();
  Result<RunFilter> run = filter->install(11, filtered_policy());
  ASSERT_TRUE(run) << run.error().message();
  ASSERT_TRUE(filter->admit(11));
  ASSERT_TRUE(filter->admit(12));
  EXPECT_EQ(policy_entry(*filter, 11).flags, policy_flags(filtered_policy()));
  EXPECT_EQ(policy_entry(*filter, 12).flags, 0u);
  for (const sandbox_packet_state &state : packet_state(*filter, 11))
    EXPECT_EQ(state.flags, policy_flags(filtered_policy()));
  for (const sandbox_packet_state &state : packet_state(*filter, 12))
    EXPECT_EQ(state.flags, 0u);
  ASSERT_TRUE(filter->sweep({11}));
}

// sweep() removes everything of the cgroups not in `live` (what killed supervisors left)
// and nothing of the live ones.
TEST(ParentFilter, SweepRemovesEntriesOfDeadCgroupsOnly) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  Result<ParentFilter> filter = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(filter) << filter.error().message();
  const FilterMaps &maps = filter->maps();
  constexpr std::uint64_t kLive = 100, kDead = 200, kAdmittedDead = 300;
  Result<RunFilter> live = filter->install(kLive, filtered_policy());
  Result<RunFilter> dead = filter->install(kDead, filtered_policy());
  ASSERT_TRUE(live && dead);
  ASSERT_TRUE(filter->admit(kAdmittedDead));

  ASSERT_TRUE(filter->sweep({kLive}));
  EXPECT_EQ(map_keys<std::uint64_t>(maps.policies.get()), std::vector<std::uint64_t>{kLive});
  EXPECT_EQ(map_keys<std::uint64_t>(maps.packet_state.get()), std::vector<std::uint64_t>{kLive});
  for (const ip4_rule_key &key : map_keys<ip4_rule_key>(maps.allow4.get()))
    EXPECT_EQ(cgroup_of(key), kLive);
  for (const ip4_rule_key &key : map_keys<ip4_rule_key>(maps.deny4.get()))
    EXPECT_EQ(cgroup_of(key), kLive);
  for (const ip6_rule_key &key : map_keys<ip6_rule_key>(maps.deny6.get()))
    EXPECT_EQ(cgroup_of(key), kLive);
  EXPECT_EQ(map_keys<ip4_rule_key>(maps.deny4.get()).size(), 1u);
  EXPECT_EQ(map_keys<ip6_rule_key>(maps.deny6.get()).size(), 1u);
}

// A set of another build has maps this build cannot see: with no run alive it is replaced.
TEST(ParentFilter, SetOfAnotherBuildIsDetachedWhenNoRunsAreAlive) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  std::uint32_t other = attach_other_build(fd.get(), run_level_below(parent));
  ASSERT_NE(other, 0u);
  Result<std::optional<ParentFilter>> found = ParentFilter::find(fd.get());
  ASSERT_TRUE(found) << found.error().message();
  EXPECT_FALSE(*found) << "find() must not return another build's set";

  Result<ParentFilter> fresh = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), false);
  ASSERT_TRUE(fresh) << fresh.error().message();
  for (bpf_attach_type hook : kHooks)
    EXPECT_EQ(attached_programs(fd.get(), hook).size(), 1u) << "hook " << hook;
  std::vector<std::uint32_t> egress = attached_programs(fd.get(), BPF_CGROUP_INET_EGRESS);
  ASSERT_EQ(egress.size(), 1u);
  EXPECT_NE(egress.front(), other);
  EXPECT_EQ(build_of(egress.front()), build_id());
}

// While runs of the other build are alive, detaching their set would open them up and
// attaching beside it would refuse all their traffic: attach() refuses instead.
TEST(ParentFilter, SetOfAnotherBuildIsRefusedWhileRunsAreAlive) {
  RF_REQUIRE_ROOT();
  IpTestParent parent;
  UniqueFd fd = parent.open();
  std::uint32_t other = attach_other_build(fd.get(), run_level_below(parent));
  ASSERT_NE(other, 0u);
  ASSERT_EQ(build_of(other), build_id() + 1);

  Result<ParentFilter> attached = ParentFilter::attach(fd.get(), parent_id(parent), run_level_below(parent), true);
  ASSERT_FALSE(attached);
  EXPECT_NE(attached.error().message().find("another ringfence build"), std::string::npos)
      << attached.error().message();
  for (bpf_attach_type hook : kHooks)
    EXPECT_EQ(attached_programs(fd.get(), hook).size(), 1u) << "hook " << hook;
  EXPECT_EQ(attached_programs(fd.get(), BPF_CGROUP_INET_EGRESS).at(0), other);
}

} // namespace
} // namespace rf::netfilter
