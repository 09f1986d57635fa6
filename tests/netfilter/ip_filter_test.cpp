// Loading ip_filter and attaching it to a live cgroup. Needs root. All traffic
// stays on 127.0.0.1.
#include "cgroup/cgroup.hpp"
#include "cgroup/cgroup_fixture.hpp"
#include "netfilter/ip_filter.hpp"
#include "test_support.hpp"
#include "util/unique_fd.hpp"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <vector>

namespace rf::netfilter {
namespace {

using cgroup::CgroupDir;
using test::clone_into_cgroup;
using test::TestCgroupPath;
using test::wait_for;

// The ids of the programs attached to `cgroup_fd` for `type`, and their flags.
struct Attached {
  std::vector<__u32> ids;
  __u32 flags = 0;
};

Attached query_attached(int cgroup_fd, bpf_attach_type type) {
  Attached attached;
  attached.ids.resize(16);
  __u32 count = static_cast<__u32>(attached.ids.size());
  int err = bpf_prog_query(cgroup_fd, type, 0, &attached.flags, attached.ids.data(), &count);
  EXPECT_EQ(err, 0) << "bpf_prog_query: " << std::strerror(-err);
  attached.ids.resize(err == 0 ? count : 0);
  return attached;
}

bpf_prog_info program_info(int program_fd) {
  bpf_prog_info info{};
  __u32 length = sizeof info;
  int err = bpf_obj_get_info_by_fd(program_fd, &info, &length);
  EXPECT_EQ(err, 0) << "bpf_obj_get_info_by_fd: " << std::strerror(-err);
  return info;
}

sockaddr_in loopback(in_port_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = port;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A UDP socket bound to 127.0.0.1 on a free port; the port in network order.
UniqueFd bound_loopback_receiver(in_port_t &port) {
  UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in address = loopback(0);
  socklen_t length = sizeof address;
  if (!socket_fd ||
      ::bind(socket_fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof address) < 0 ||
      ::getsockname(socket_fd.get(), reinterpret_cast<sockaddr *>(&address), &length) < 0) {
    ADD_FAILURE() << "loopback receiver: " << std::strerror(errno);
    return {};
  }
  port = address.sin_port;
  return socket_fd;
}

std::string receive_within(int socket_fd, int timeout_ms) {
  pollfd ready{socket_fd, POLLIN, 0};
  if (::poll(&ready, 1, timeout_ms) != 1)
    return {};
  char buffer[64];
  ssize_t n = ::recv(socket_fd, buffer, sizeof buffer, MSG_DONTWAIT);
  return n > 0 ? std::string(buffer, static_cast<std::size_t>(n)) : std::string();
}

TEST(IpFilter, LoadsBothPrograms) {
  RF_REQUIRE_ROOT();
  Result<IpFilter> filter = IpFilter::load();
  ASSERT_TRUE(filter) << filter.error().message();
  EXPECT_GE(filter->program_fd(Direction::egress), 0);
  EXPECT_GE(filter->program_fd(Direction::ingress), 0);
  EXPECT_EQ(program_info(filter->program_fd(Direction::egress)).type, BPF_PROG_TYPE_CGROUP_SKB);
}

TEST(IpFilter, AttachedEgressProgramSeesAndPassesLoopbackUdp) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();
  Result<IpFilter> filter = IpFilter::load();
  ASSERT_TRUE(filter) << filter.error().message();
  int egress_fd = filter->program_fd(Direction::egress);

  Status attached = filter->attach(dir->fd(), Direction::egress);
  ASSERT_TRUE(attached) << attached.error().message();
  Attached egress = query_attached(dir->fd(), BPF_CGROUP_INET_EGRESS);
  ASSERT_EQ(egress.ids.size(), 1u);
  EXPECT_EQ(egress.ids[0], program_info(egress_fd).id);
  EXPECT_EQ(egress.flags, static_cast<__u32>(BPF_F_ALLOW_MULTI));
  EXPECT_TRUE(query_attached(dir->fd(), BPF_CGROUP_INET_INGRESS).ids.empty());

  // Run counters prove the packet went through our program, not around it.
  UniqueFd stats(bpf_enable_stats(BPF_STATS_RUN_TIME));
  ASSERT_TRUE(stats) << "bpf_enable_stats: " << std::strerror(errno);
  in_port_t port = 0;
  UniqueFd receiver = bound_loopback_receiver(port);
  ASSERT_TRUE(receiver);
  ASSERT_EQ(program_info(egress_fd).run_cnt, 0u) << "nothing in the new cgroup has sent yet";
  pid_t sender = clone_into_cgroup(dir->fd(), [port] {
    UniqueFd socket_fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in to = loopback(port);
    ssize_t sent = ::sendto(socket_fd.get(), "ringfence", 9, 0,
                            reinterpret_cast<const sockaddr *>(&to), sizeof to);
    return sent == 9 ? 0 : (errno & 0xff);
  });
  ASSERT_GT(sender, 0) << std::strerror(errno);
  int status = wait_for(sender);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << "sendto: " << std::strerror(WEXITSTATUS(status));
  EXPECT_EQ(receive_within(receiver.get(), 2000), "ringfence");
  EXPECT_GE(program_info(egress_fd).run_cnt, 1u);

  Status detached = filter->detach(dir->fd(), Direction::egress);
  ASSERT_TRUE(detached) << detached.error().message();
  EXPECT_TRUE(query_attached(dir->fd(), BPF_CGROUP_INET_EGRESS).ids.empty());
  ASSERT_TRUE(dir->remove());
  EXPECT_FALSE(test::path_exists(where.path()));
}

TEST(IpFilter, DetachWithoutAttachReportsErrno) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();
  Result<IpFilter> filter = IpFilter::load();
  ASSERT_TRUE(filter) << filter.error().message();

  Status detached = filter->detach(dir->fd(), Direction::ingress);
  ASSERT_FALSE(detached);
  EXPECT_EQ(detached.error().err, ENOENT) << detached.error().message();
  EXPECT_NE(detached.error().what.find(where.path()), std::string::npos)
      << "the message names the cgroup: " << detached.error().what;
}

TEST(IpFilter, AttachmentOutlivesTheLoader) {
  RF_REQUIRE_ROOT();
  TestCgroupPath where;
  Result<CgroupDir> dir = CgroupDir::create(where.path());
  ASSERT_TRUE(dir) << dir.error().message();
  {
    Result<IpFilter> filter = IpFilter::load();
    ASSERT_TRUE(filter) << filter.error().message();
    ASSERT_TRUE(filter->attach(dir->fd(), Direction::ingress));
  }
  // BPF_PROG_ATTACH ties the program to the cgroup, so a killed supervisor
  // leaves the filter in place; removing the cgroup releases it.
  EXPECT_EQ(query_attached(dir->fd(), BPF_CGROUP_INET_INGRESS).ids.size(), 1u);
  ASSERT_TRUE(dir->remove());
  EXPECT_FALSE(test::path_exists(where.path()));
}

} // namespace
} // namespace rf::netfilter
