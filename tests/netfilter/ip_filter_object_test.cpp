// The embedded ip_filter object, inspected without loading it (no root needed).
#include "netfilter/ip_filter_skel.hpp"
#include "util/bpf_handles.hpp"

#include <cerrno>
#include <cstring>
#include <gtest/gtest.h>

namespace rf {
namespace {

TEST(IpFilterObject, DeclaresCgroupSkbProgramsForBothDirections) {
  SkelPtr<ip_filter> skel(ip_filter::open());
  ASSERT_TRUE(skel) << "ip_filter::open: " << std::strerror(errno);

  bpf_program *egress = skel->progs.sandbox_egress;
  EXPECT_EQ(bpf_program__type(egress), BPF_PROG_TYPE_CGROUP_SKB);
  EXPECT_EQ(bpf_program__expected_attach_type(egress), BPF_CGROUP_INET_EGRESS);
  bpf_program *ingress = skel->progs.sandbox_ingress;
  EXPECT_EQ(bpf_program__type(ingress), BPF_PROG_TYPE_CGROUP_SKB);
  EXPECT_EQ(bpf_program__expected_attach_type(ingress), BPF_CGROUP_INET_INGRESS);
}

} // namespace
} // namespace rf
