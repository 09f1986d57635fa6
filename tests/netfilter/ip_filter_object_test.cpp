// The embedded ip_filter object, inspected without loading it (no root needed).
#include "netfilter/ip_filter.hpp"
#include "netfilter/ip_filter_skel.hpp"
#include "util/bpf_handles.hpp"
#include "util/hash.hpp"

#include <cerrno>
#include <cstring>
#include <gtest/gtest.h>

namespace rf {
namespace {

struct Expected {
  bpf_program *program;
  bpf_prog_type type;
  bpf_attach_type attach;
};

TEST(IpFilterObject, DeclaresTheSixProgramsWithTheirHooks) {
  SkelPtr<ip_filter> skel(ip_filter::open());
  ASSERT_TRUE(skel) << "ip_filter::open: " << std::strerror(errno);
  const Expected expected[] = {
      {skel->progs.rf_egress, BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_EGRESS},
      {skel->progs.rf_ingress, BPF_PROG_TYPE_CGROUP_SKB, BPF_CGROUP_INET_INGRESS},
      {skel->progs.rf_connect4, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET4_CONNECT},
      {skel->progs.rf_connect6, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_INET6_CONNECT},
      {skel->progs.rf_sendmsg4, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP4_SENDMSG},
      {skel->progs.rf_sendmsg6, BPF_PROG_TYPE_CGROUP_SOCK_ADDR, BPF_CGROUP_UDP6_SENDMSG},
  };
  for (const Expected &e : expected) {
    EXPECT_EQ(bpf_program__type(e.program), e.type) << bpf_program__name(e.program);
    EXPECT_EQ(bpf_program__expected_attach_type(e.program), e.attach)
        << bpf_program__name(e.program);
    // The kernel keeps 15 characters of a name; ringfence finds its programs by name.
    EXPECT_LE(std::strlen(bpf_program__name(e.program)), 15u);
  }
}

TEST(IpFilterObject, RuleTriesAreSizedForManyRunsWithoutPreallocation) {
  SkelPtr<ip_filter> skel(ip_filter::open());
  ASSERT_TRUE(skel);
  for (bpf_map *map : {skel->maps.allow4, skel->maps.deny4, skel->maps.allow6, skel->maps.deny6}) {
    EXPECT_EQ(bpf_map__type(map), BPF_MAP_TYPE_LPM_TRIE);
    EXPECT_GE(bpf_map__max_entries(map), 1u << 20);
    EXPECT_TRUE(bpf_map__map_flags(map) & BPF_F_NO_PREALLOC);
  }
}

// Hashed at build time (tools/bpf-build-id): it must name the object this binary embeds.
TEST(IpFilterObject, BuildIdIsTheHashOfTheEmbeddedObject) {
  std::size_t size = 0;
  const void *bytes = ip_filter::elf_bytes(&size);
  EXPECT_EQ(netfilter::build_id(), fnv1a(bytes, size));
  EXPECT_NE(netfilter::build_id(), 0u);
}

} // namespace
} // namespace rf
