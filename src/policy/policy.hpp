// The validated policy: plain data, built from a unit's assignments, with no kernel calls.
// Enforcers take this object; they never see text.
#pragma once

#include "policy/syscall_entries.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rf {

// Where an assignment came from: "file:line" in messages and in `show`.
struct Origin {
  std::string file;
  int line = 0;
  std::string str() const { return file + ":" + std::to_string(line); }
};

struct IpPrefix {
  int family = 0;                   // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> addr{}; // network byte order; IPv4 uses the first 4 bytes
  std::uint8_t length = 0;          // prefix length, 0..32 or 0..128

  bool operator==(const IpPrefix &) const = default;
  auto operator<=>(const IpPrefix &) const = default;
};

enum class ServiceType { simple, exec, forking, oneshot, notify };

// One ExecStart= line: words still unexpanded ($VAR is expanded at launch, when the
// environment is final), with systemd's prefixes.
struct ExecCommand {
  std::vector<std::string> argv; // argv[0] is the path to execute
  std::optional<std::string> argv0; // '@' prefix: the second word becomes argv[0]
  bool ignore_failure = false;   // '-' prefix: a non-zero exit counts as success
  bool expand_environment = true; // ':' prefix turns off $VAR expansion
};

struct EnvironmentFile {
  std::string path;
  bool optional = false; // '-' prefix: a missing file is not an error
};

// Per-syscall action in a filter list: an errno (>= 0), or one of these.
inline constexpr int kDefaultAction = -1; // the mode's action: allowed, or SystemCallErrorNumber=
inline constexpr int kKillAction = -2;    // "name:kill"

struct SyscallFilter {
  bool allow_list = false; // fixed by the first assignment: no '~' → allow list
  // Syscall name (groups expanded) → action, sorted by name. In an allow list kDefaultAction
  // means allowed and an errno means "denied with this errno" (a later '~name:errno'); in a
  // deny list every entry is denied, with SystemCallErrorNumber= for kDefaultAction.
  SyscallEntries entries;
  std::set<std::string> named_explicitly; // written by name, not through a @group
};

struct SyscallLog {
  bool allow_list = false; // no '~': log the listed calls; '~': log all but the listed
  std::set<std::string> names;
};

struct AddressFamilies {
  bool allow_list = true; // no '~': only these families; '~': all but these
  std::vector<int> families; // AF_* numbers; an empty allow list means "none"
};

// RestrictNamespaces=: a mask of CLONE_NEW* flags that stay allowed.
struct NamespaceRestriction {
  std::uint64_t allowed = 0;
};

struct ResourceLimits {
  std::optional<std::string> memory_max, memory_high, tasks_max, cpu_quota, cpu_weight,
      io_weight, memory_swap_max;
  bool any() const {
    return memory_max || memory_high || tasks_max || cpu_quota || cpu_weight || io_weight ||
           memory_swap_max;
  }
};

enum class AuditTrail { required, best_effort };

// Capabilities that would let a root service leave its sandbox: mount and cgroupfs
// (SYS_ADMIN), BPF programs (BPF, NET_ADMIN, PERFMON), the supervisor's memory and files
// (SYS_PTRACE), the kernel (SYS_MODULE, SYS_RAWIO, MKNOD), open_by_handle_at (DAC_READ_SEARCH).
inline constexpr std::uint64_t kSandboxEscapeCapabilities =
    1ull << 21 /* CAP_SYS_ADMIN */ | 1ull << 39 /* CAP_BPF */ | 1ull << 12 /* CAP_NET_ADMIN */ |
    1ull << 38 /* CAP_PERFMON */ | 1ull << 19 /* CAP_SYS_PTRACE */ |
    1ull << 16 /* CAP_SYS_MODULE */ | 1ull << 17 /* CAP_SYS_RAWIO */ | 1ull << 27 /* CAP_MKNOD */ |
    1ull << 2 /* CAP_DAC_READ_SEARCH */;

struct Policy {
  std::string unit_name; // e.g. "web.service"
  std::string unit_path; // the fragment file, empty for an ad-hoc run
  ServiceType type = ServiceType::simple;

  std::vector<ExecCommand> exec_start; // one, or several for Type=oneshot
  std::optional<std::string> user, group;
  std::vector<std::string> supplementary_groups;
  std::optional<std::string> working_directory; // "~" means the user's home
  bool working_directory_optional = false;      // '-' prefix
  std::vector<std::string> environment;         // "KEY=VALUE", in assignment order
  std::vector<EnvironmentFile> environment_files;
  std::optional<mode_t> umask;

  std::optional<std::uint64_t> capability_bounding_set; // bit mask of CAP_*
  std::uint64_t ambient_capabilities = 0;

  std::vector<IpPrefix> ip_allow, ip_deny; // reduced: no duplicates, no covered prefixes
  bool ip_accounting = false;

  std::optional<SyscallFilter> syscall_filter;
  std::optional<int> syscall_error_number; // errno; nullopt = kill (the default)
  std::vector<std::string> syscall_architectures; // empty = native only
  std::optional<SyscallLog> syscall_log;
  std::optional<AddressFamilies> restrict_address_families;
  std::optional<NamespaceRestriction> restrict_namespaces;
  bool lock_personality = false;
  bool memory_deny_write_execute = false;
  bool restrict_realtime = false;
  bool restrict_suid_sgid = false;

  ResourceLimits limits;

  AuditTrail audit_trail = AuditTrail::required;
  bool allow_unfiltered_inherited_sockets = false;

  // Protection directives that ringfence parses but does not enforce yet: `run` refuses them.
  std::vector<std::pair<std::string, Origin>> unenforced;

  // A filter of either kind.
  bool has_filter() const { return has_ip_filter() || has_seccomp(); }
  // Something a root service could undo or leave, given the capabilities: a filter or a
  // resource limit. The default bounding set then drops kSandboxEscapeCapabilities.
  bool has_confinement() const { return has_filter() || limits.any(); }
  bool has_ip_filter() const { return !ip_allow.empty() || !ip_deny.empty(); }
  bool has_seccomp() const {
    return syscall_filter || syscall_log || restrict_address_families || restrict_namespaces ||
           lock_personality || memory_deny_write_execute || restrict_realtime ||
           restrict_suid_sgid || !syscall_architectures.empty();
  }
};

} // namespace rf
