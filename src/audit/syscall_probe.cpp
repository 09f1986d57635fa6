#include "audit/syscall_probe.hpp"

#include "sandbox_abi.h"

#include <bpf/bpf.h>
#include <cerrno>
#include <cstring>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wold-style-cast"
#include "syscall_audit.skel.h"
#pragma GCC diagnostic pop

namespace rf::audit {

SyscallProbe::SyscallProbe(SkelPtr<syscall_audit> skel, LinkPtr link, std::vector<int> errnos)
    : skel_(std::move(skel)), link_(std::move(link)), errnos_(std::move(errnos)),
      reported_(SANDBOX_MAX_SYSCALL, 0) {}
SyscallProbe::SyscallProbe(SyscallProbe &&) noexcept = default;
SyscallProbe &SyscallProbe::operator=(SyscallProbe &&) noexcept = default;
SyscallProbe::~SyscallProbe() = default;

Result<SyscallProbe> SyscallProbe::attach(std::uint64_t cgroup_id,
                                          const std::vector<seccomp::RefusedCall> &refused) {
  SkelPtr<syscall_audit> skel(syscall_audit::open());
  if (!skel)
    return Error::from_errno("Failed to open the system call audit probe");
  skel->rodata->run_cgroup = cgroup_id;
  if (int err = syscall_audit::load(skel.get()); err < 0)
    return Error::from_errno("Failed to load the system call audit probe", -err);
  std::vector<int> errnos(SANDBOX_MAX_SYSCALL, 0);
  int map_fd = bpf_map__fd(skel->maps.refused);
  for (const seccomp::RefusedCall &call : refused) {
    if (call.nr < 0 || call.nr >= SANDBOX_MAX_SYSCALL || call.err <= 0)
      continue; // kills end the process: its status says so
    std::uint32_t key = static_cast<std::uint32_t>(call.nr), value = static_cast<std::uint32_t>(call.err);
    if (int err = bpf_map_update_elem(map_fd, &key, &value, BPF_ANY); err < 0)
      return Error::from_errno("Failed to configure the system call audit probe", -err);
    errnos[static_cast<std::size_t>(call.nr)] = call.err;
  }
  LinkPtr link(bpf_program__attach_raw_tracepoint(skel->progs.rf_sys_exit, "sys_exit"));
  if (!link)
    return Error::from_errno("Failed to attach the system call audit probe to sys_exit");
  return SyscallProbe(std::move(skel), std::move(link), std::move(errnos));
}

std::vector<SyscallDenial> SyscallProbe::new_denials() {
  std::vector<SyscallDenial> out;
  int map_fd = bpf_map__fd(skel_->maps.syscall_denials);
  for (std::uint32_t nr = 0; nr < SANDBOX_MAX_SYSCALL; ++nr) {
    if (errnos_[nr] == 0)
      continue;
    sandbox_syscall_denial value{};
    if (bpf_map_lookup_elem(map_fd, &nr, &value) < 0 || value.count == reported_[nr])
      continue;
    SyscallDenial d;
    d.nr = static_cast<int>(nr);
    d.err = errnos_[nr];
    d.count = value.count - reported_[nr];
    d.pid = static_cast<pid_t>(value.tgid);
    d.comm.assign(reinterpret_cast<const char *>(value.comm),
                  strnlen(reinterpret_cast<const char *>(value.comm), sizeof value.comm));
    reported_[nr] = value.count;
    out.push_back(std::move(d));
  }
  return out;
}

} // namespace rf::audit
