// Sockets passed in to a run (socket activation's LISTEN_FDS, or standard input, output
// and error) were created outside its cgroup, so the cgroup programs never see their
// traffic. A listening socket gets the run's rules through a locked socket filter
// (bpf/inherited_socket.bpf.c); any other passed-in IP socket cannot be covered, and is
// refused unless the unit says AllowUnfilteredInheritedSockets=yes.
#pragma once

#include "netfilter/ip_filter.hpp"
#include "util/result.hpp"

#include <cstdint>
#include <vector>

namespace rf::netfilter {

struct InheritedSocket {
  int fd = -1;
  int family = 0;
  bool listening = false;
};

// The IPv4/IPv6 sockets among fds 0..2 and 3..3+listen_fds-1.
std::vector<InheritedSocket> inherited_ip_sockets(int listen_fds);

// Points the covered sockets' filters at one run's rules while it lasts; on destruction
// they pass everything again (the sockets go back to their owner).
class InheritedSocketGuard {
public:
  InheritedSocketGuard(InheritedSocketGuard &&other) noexcept;
  InheritedSocketGuard &operator=(InheritedSocketGuard &&) = delete;
  InheritedSocketGuard(const InheritedSocketGuard &) = delete;
  ~InheritedSocketGuard();

private:
  friend Result<InheritedSocketGuard> cover_inherited_sockets(
      const ParentFilter &, std::uint64_t, std::uint32_t, const std::vector<InheritedSocket> &,
      bool);
  InheritedSocketGuard(int policies_fd, std::vector<std::uint64_t> keys)
      : policies_fd_(policies_fd), keys_(std::move(keys)) {}
  int policies_fd_ = -1; // owned by the ParentFilter's maps, which outlive this guard
  std::vector<std::uint64_t> keys_;
};

// `flags`: the run's policy_flags(), which the socket's entry carries too.
Result<InheritedSocketGuard> cover_inherited_sockets(const ParentFilter &filter,
                                                     std::uint64_t cgroup_id, std::uint32_t flags,
                                                     const std::vector<InheritedSocket> &sockets,
                                                     bool allow_unfiltered);

} // namespace rf::netfilter
