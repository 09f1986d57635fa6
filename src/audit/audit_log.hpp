// The JSON-lines audit log: one record per line, appended (see the contract's "Audit
// records"). This file holds the file sink and the records the launcher writes.
#pragma once

#include "audit/journal.hpp"
#include "netfilter/ip_counters.hpp"
#include "util/result.hpp"
#include "util/unique_fd.hpp"

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace rf::audit {

inline constexpr const char *kDefaultAuditLog = "/var/log/ringfence/audit.jsonl";

// The fields every record of one run shares.
struct RunIdentity {
  std::string unit;
  std::string invocation; // 32 hex digits
};

class AuditLog {
public:
  // Opens `path` for appending (O_APPEND: concurrent runs never interleave within a line),
  // creating it 0640, and its directory 0750 when missing.
  static Result<AuditLog> open(const std::string &path);

  // Appends one record (a JSON object without the trailing newline) with one write(), and
  // sends it to the journal when journald runs.
  Status append(const std::string &record);
  const std::string &path() const { return path_; }

private:
  void reopen_if_rotated();
  AuditLog(std::string path, UniqueFd fd, std::unique_ptr<Journal> journal)
      : path_(std::move(path)), fd_(std::move(fd)), journal_(std::move(journal)) {}
  std::string path_;
  UniqueFd fd_;
  std::unique_ptr<Journal> journal_; // nullptr where no journald runs
};

// RFC 3339 UTC with microseconds: "2026-11-29T10:02:11.520113Z".
std::string format_time(const timespec &realtime);

// `audit_trail_off`: why AuditTrail=best-effort started without the tracing programs
// (the record then says "audit_trail": "off: WHY"); empty when they run.
std::string start_record(const RunIdentity &run, const timespec &when, pid_t pid,
                         const std::string &comm, const std::vector<std::string> &command,
                         const std::string &cgroup, const std::string &audit_trail_off = "");

// A refused attempt as the IP filter counted it (netfilter::Denial), for one record.
struct DenialFacts {
  int kind = 0; // SANDBOX_EVENT_*: connect, sendmsg, egress drop, ingress drop; 0: unknown
  int family = 0;
  int protocol = 0;
  std::uint16_t port = 0;
  std::array<std::uint8_t, 16> addr{}; // the remote address
  std::uint64_t count = 0;
  // Dropped packets: the local end (of the last one, when `count` folds several).
  std::uint16_t local_port = 0;
  std::array<std::uint8_t, 16> local_addr{};
};
// "connect-denied", "sendmsg-denied" or "packet-dropped" (both ends of the packet), or
// "denied-unattributed" for refusals whose destination the full table could not keep.
std::string denial_record(const RunIdentity &run, const timespec &when, pid_t pid,
                          const std::string &comm, const DenialFacts &facts);

// Calls the seccomp filter refused (with an errno or a kill: "syscall-denied") or allowed
// and logged (SystemCallLog=: "syscall-logged").
enum class SyscallAction { errno_return, kill, log };
struct SyscallFacts {
  int nr = 0;
  SyscallAction action = SyscallAction::errno_return;
  int err = 0; // SyscallAction::errno_return
  std::uint64_t count = 0;
};
std::string syscall_record(const RunIdentity &run, const timespec &when, pid_t pid,
                           const std::string &comm, const SyscallFacts &facts);

struct ExitFacts {
  int status = 0;
  std::uint64_t duration_ms = 0;
  std::string stage; // "exec" when the command ran, else the setup step that failed
  std::optional<netfilter::IpCounters> ip; // with IPAccounting=yes
};
std::string exit_record(const RunIdentity &run, const timespec &when, pid_t pid,
                        const std::string &comm, const ExitFacts &facts);

} // namespace rf::audit
