// Loader for the ip_filter BPF object (bpf/ip_filter.bpf.c) and its cgroup
// attachment.
#pragma once

#include "util/bpf_handles.hpp"
#include "util/result.hpp"

struct ip_filter; // generated skeleton: netfilter/ip_filter_skel.hpp

namespace rf::netfilter {

enum class Direction { ingress, egress };

class IpFilter {
public:
  // Opens and loads (verifies) every program of the object. Needs CAP_BPF
  // (root in practice); libbpf's own messages are dropped unless the
  // environment sets RINGFENCE_DEBUG.
  static Result<IpFilter> load();

  // Out of line: only ip_filter.cpp needs the complete skeleton type.
  IpFilter(IpFilter &&other) noexcept;
  IpFilter &operator=(IpFilter &&other) noexcept;
  ~IpFilter();

  // BPF_PROG_ATTACH with BPF_F_ALLOW_MULTI: the attachment lives as long as
  // the cgroup, not as long as this object or this process (the supervisor
  // may be SIGKILLed), and the programs of parent cgroups keep running.
  Status attach(int cgroup_fd, Direction direction) const;
  Status detach(int cgroup_fd, Direction direction) const;

  int program_fd(Direction direction) const;
  // For later stages (maps, rodata); include "netfilter/ip_filter_skel.hpp" to use it.
  ip_filter &skeleton() const { return *skel_; }

private:
  explicit IpFilter(SkelPtr<ip_filter> skel);

  SkelPtr<ip_filter> skel_;
};

} // namespace rf::netfilter
