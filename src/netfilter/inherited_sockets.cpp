#include "netfilter/inherited_sockets.hpp"

#include "sandbox_abi.h"
#include "util/bpf_handles.hpp"

#include <bpf/bpf.h>
#include <cerrno>
#include <string>
#include <sys/socket.h>
#include <utility>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "inherited_socket.skel.h"
#pragma GCC diagnostic pop

namespace rf::netfilter {
namespace {

int socket_option(int fd, int option) {
  int value = 0;
  socklen_t length = sizeof value;
  return ::getsockopt(fd, SOL_SOCKET, option, &value, &length) == 0 ? value : -1;
}

// The socket filter program, bound to the parent set's maps.
Result<SkelPtr<inherited_socket>> load_socket_filter(const FilterMaps &maps) {
  SkelPtr<inherited_socket> skel(inherited_socket::open());
  if (!skel)
    return Error::from_errno("Failed to open the inherited-socket BPF object");
  std::pair<bpf_map *, int> shared[] = {
      {skel->maps.allow4, maps.allow4.get()}, {skel->maps.deny4, maps.deny4.get()},
      {skel->maps.allow6, maps.allow6.get()}, {skel->maps.deny6, maps.deny6.get()},
      {skel->maps.policies, maps.policies.get()}, {skel->maps.verdicts, maps.verdicts.get()},
  };
  for (auto [map, fd] : shared)
    if (int err = bpf_map__reuse_fd(map, fd); err < 0)
      return Error::from_errno("Failed to share the IP rules with the socket filter", -err);
  if (int err = inherited_socket::load(skel.get()); err < 0)
    return Error::from_errno("Failed to load the inherited-socket filter", -err);
  return skel;
}

// SO_ATTACH_BPF, then SO_LOCK_FILTER so that the service cannot detach or replace it. A
// socket that an earlier run locked (`locked_before`: its entry is in the shared map) is
// covered already: its filter finds the new run through the entry.
Status attach_locked(int fd, int program_fd, bool locked_before) {
  if (::setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &program_fd, sizeof program_fd) == 0) {
    int one = 1;
    if (::setsockopt(fd, SOL_SOCKET, SO_LOCK_FILTER, &one, sizeof one) < 0)
      return Error::from_errno("Failed to lock the filter of passed-in socket fd " +
                               std::to_string(fd));
    return Ok{};
  }
  if (errno == EPERM && locked_before)
    return Ok{};
  return Error::from_errno("Failed to attach a filter to passed-in socket fd " +
                           std::to_string(fd) + " (it may carry someone else's locked filter)");
}

} // namespace

std::vector<InheritedSocket> inherited_ip_sockets(int listen_fds) {
  std::vector<InheritedSocket> sockets;
  for (int fd = 0; fd < 3 + listen_fds; ++fd) {
    int family = socket_option(fd, SO_DOMAIN);
    if (family == AF_INET || family == AF_INET6)
      sockets.push_back({fd, family, socket_option(fd, SO_ACCEPTCONN) == 1});
  }
  return sockets;
}

InheritedSocketGuard::InheritedSocketGuard(InheritedSocketGuard &&other) noexcept
    : policies_fd_(std::exchange(other.policies_fd_, -1)), keys_(std::move(other.keys_)) {}

InheritedSocketGuard::~InheritedSocketGuard() {
  sandbox_policy idle{};
  for (std::uint64_t key : keys_)
    bpf_map_update_elem(policies_fd_, &key, &idle, BPF_ANY);
}

Result<InheritedSocketGuard> cover_inherited_sockets(const ParentFilter &filter,
                                                     std::uint64_t cgroup_id, std::uint32_t flags,
                                                     const std::vector<InheritedSocket> &sockets,
                                                     bool allow_unfiltered) {
  InheritedSocketGuard guard(filter.maps().policies.get(), {});
  SkelPtr<inherited_socket> skel;
  for (const InheritedSocket &socket : sockets) {
    if (!socket.listening) {
      if (allow_unfiltered)
        continue;
      return Error::msg("passed-in fd " + std::to_string(socket.fd) +
                        " is an IP socket that is not listening: no filter can cover its "
                        "traffic (AllowUnfilteredInheritedSockets=yes runs the service anyway)");
    }
    std::uint64_t cookie = 0;
    socklen_t length = sizeof cookie;
    if (::getsockopt(socket.fd, SOL_SOCKET, SO_COOKIE, &cookie, &length) < 0)
      return Error::from_errno("Failed to identify passed-in socket fd " +
                               std::to_string(socket.fd));
    if (!skel) {
      Result<SkelPtr<inherited_socket>> loaded = load_socket_filter(filter.maps());
      if (!loaded)
        return loaded.error();
      skel = std::move(*loaded);
    }
    std::uint64_t key = SANDBOX_SOCKET_KEY(cookie);
    sandbox_policy entry{};
    bool locked_before = bpf_map_lookup_elem(guard.policies_fd_, &key, &entry) == 0;
    entry = {flags | SANDBOX_POLICY_FILTER, 0, cgroup_id};
    // The entry first: from the moment the filter is attached, it applies the run's rules.
    if (int err = bpf_map_update_elem(guard.policies_fd_, &key, &entry, BPF_ANY); err < 0)
      return Error::from_errno("Failed to write the rules of passed-in socket fd " +
                                   std::to_string(socket.fd),
                               -err);
    Status attached =
        attach_locked(socket.fd, bpf_program__fd(skel->progs.rf_inherited), locked_before);
    if (!attached) {
      // Not ours: leave no entry that would make a later run think it is.
      if (!locked_before)
        bpf_map_delete_elem(guard.policies_fd_, &key);
      return attached.error();
    }
    guard.keys_.push_back(key);
  }
  return guard;
}

} // namespace rf::netfilter
