#include "netfilter/ip_filter.hpp"

#include "netfilter/ip_filter_skel.hpp"

#include <bpf/bpf.h>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>
#include <utility>

namespace rf::netfilter {
namespace {

// libbpf prints load and verifier failures to stderr by default. Library code
// returns errors and lets the edge report them, so libbpf speaks only when
// asked to. The setting is process-wide; installing it again is harmless.
int print_libbpf_when_debugging(enum libbpf_print_level, const char *format, va_list args) {
  if (std::getenv("RINGFENCE_DEBUG") == nullptr)
    return 0;
  return std::vfprintf(stderr, format, args);
}

bpf_attach_type attach_type(Direction direction) {
  return direction == Direction::egress ? BPF_CGROUP_INET_EGRESS : BPF_CGROUP_INET_INGRESS;
}

const char *direction_name(Direction direction) {
  return direction == Direction::egress ? "egress" : "ingress";
}

// Error messages name the cgroup, but callers hold only its fd.
std::string describe_fd(int fd) {
  char target[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  if (n <= 0)
    return "fd " + std::to_string(fd);
  return "'" + std::string(target, static_cast<std::size_t>(n)) + "'";
}

// "Failed to attach ip_filter egress program to cgroup '/sys/fs/cgroup/x'"
std::string failure(const char *verb, Direction direction, const char *preposition, int cgroup_fd) {
  return std::string("Failed to ") + verb + " ip_filter " + direction_name(direction) +
         " program " + preposition + " cgroup " + describe_fd(cgroup_fd);
}

} // namespace

IpFilter::IpFilter(SkelPtr<ip_filter> skel) : skel_(std::move(skel)) {}
IpFilter::IpFilter(IpFilter &&other) noexcept = default;
IpFilter &IpFilter::operator=(IpFilter &&other) noexcept = default;
IpFilter::~IpFilter() = default;

Result<IpFilter> IpFilter::load() {
  libbpf_set_print(print_libbpf_when_debugging);
  SkelPtr<ip_filter> skel(ip_filter::open());
  if (!skel)
    return Error::from_errno("Failed to open ip_filter BPF object");
  // libbpf 1.x returns -errno and also sets errno; use the return value.
  if (int err = ip_filter::load(skel.get()); err < 0)
    return Error::from_errno("Failed to load ip_filter BPF object", -err);
  return IpFilter(std::move(skel));
}

int IpFilter::program_fd(Direction direction) const {
  bpf_program *program =
      direction == Direction::egress ? skel_->progs.sandbox_egress : skel_->progs.sandbox_ingress;
  return bpf_program__fd(program);
}

Status IpFilter::attach(int cgroup_fd, Direction direction) const {
  int err =
      bpf_prog_attach(program_fd(direction), cgroup_fd, attach_type(direction), BPF_F_ALLOW_MULTI);
  if (err < 0)
    return Error::from_errno(failure("attach", direction, "to", cgroup_fd), -err);
  return Ok{};
}

Status IpFilter::detach(int cgroup_fd, Direction direction) const {
  // With BPF_F_ALLOW_MULTI the kernel must be told which program to drop.
  int err = bpf_prog_detach2(program_fd(direction), cgroup_fd, attach_type(direction));
  if (err < 0)
    return Error::from_errno(failure("detach", direction, "from", cgroup_fd), -err);
  return Ok{};
}

} // namespace rf::netfilter
