#include "audit/audit_log.hpp"

#include "policy/names.hpp"
#include "util/json.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <netinet/in.h>
#include <cstdio>
#include <cstdlib>
#include <seccomp.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace rf::audit {
namespace {

json::Writer &begin_record(json::Writer &w, const char *event, const RunIdentity &run,
                           const timespec &when, pid_t pid, const std::string &comm) {
  w.begin_object();
  w.key("time").value(format_time(when));
  w.key("event").value(event);
  w.key("unit").value(run.unit);
  w.key("invocation").value(run.invocation);
  w.key("pid").value(static_cast<long long>(pid));
  w.key("comm").value(comm);
  return w;
}

Status make_log_directory(const std::string &path) {
  std::size_t slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0)
    return Ok{};
  std::string directory = path.substr(0, slash);
  if (::mkdir(directory.c_str(), 0750) < 0 && errno != EEXIST)
    return Error::from_errno("Failed to create the audit log directory '" + directory + "'");
  return Ok{};
}

} // namespace

Result<AuditLog> AuditLog::open(const std::string &path) {
  RF_TRY(make_log_directory(path));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!fd)
    return Error::from_errno("Failed to open the audit log '" + path + "'");
  return AuditLog(path, std::move(fd), Journal::open_if_running());
}

// logrotate renames or removes the file; a supervisor that lives longer than the file opens
// the path again (SIGHUP cannot tell it: that signal belongs to the service).
void AuditLog::reopen_if_rotated() {
  struct stat open_file {}, at_path {};
  if (::fstat(fd_.get(), &open_file) == 0 && ::stat(path_.c_str(), &at_path) == 0 &&
      open_file.st_ino == at_path.st_ino && open_file.st_dev == at_path.st_dev)
    return;
  UniqueFd fresh(
      ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (fresh)
    fd_ = std::move(fresh);
}

Status AuditLog::append(const std::string &record) {
  reopen_if_rotated();
  std::string line = record + "\n";
  ssize_t n = ::write(fd_.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()))
    return Error::from_errno("Failed to write to the audit log '" + path_ + "'", n < 0 ? errno : EIO);
  if (journal_)
    journal_->send(record);
  return Ok{};
}

// Days since 1970-01-01 → civil date (Howard Hinnant's algorithm). gmtime_r() would do, but
// glibc loads the time zone on its first call, which costs a file read on every run.
static void civil_from_days(long days, long &year, unsigned &month, unsigned &day) {
  days += 719468;
  long era = (days >= 0 ? days : days - 146096) / 146097;
  auto doe = static_cast<unsigned>(days - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  day = doy - (153 * mp + 2) / 5 + 1;
  month = mp < 10 ? mp + 3 : mp - 9;
  year = static_cast<long>(yoe) + era * 400 + (month <= 2);
}

std::string format_time(const timespec &realtime) {
  long seconds = realtime.tv_sec;
  long days = seconds / 86400, in_day = seconds % 86400;
  if (in_day < 0) {
    in_day += 86400;
    --days;
  }
  long year;
  unsigned month, day;
  civil_from_days(days, year, month, day);
  char text[80];
  std::snprintf(text, sizeof text, "%04ld-%02u-%02uT%02ld:%02ld:%02ld.%06ldZ", year, month, day,
                in_day / 3600, in_day / 60 % 60, in_day % 60, realtime.tv_nsec / 1000);
  return text;
}

std::string start_record(const RunIdentity &run, const timespec &when, pid_t pid,
                         const std::string &comm, const std::vector<std::string> &command,
                         const std::string &cgroup, const std::string &audit_trail_off) {
  json::Writer w;
  begin_record(w, "start", run, when, pid, comm);
  w.key("command").begin_array();
  for (const std::string &word : command)
    w.value(word);
  w.end_array();
  w.key("cgroup").value(cgroup);
  if (!audit_trail_off.empty())
    w.key("audit_trail").value("off: " + audit_trail_off);
  return w.end_object().str();
}

namespace {

const char *protocol_name(int protocol) {
  switch (protocol) {
  case IPPROTO_TCP: return "tcp";
  case IPPROTO_UDP: return "udp";
  case IPPROTO_ICMP: return "icmp";
  case IPPROTO_ICMPV6: return "icmpv6";
  case IPPROTO_RAW: return "raw";
  case 0: return "unknown";
  default: return "other";
  }
}

std::string address_text(int family, const std::array<std::uint8_t, 16> &addr) {
  char text[INET6_ADDRSTRLEN] = "";
  ::inet_ntop(family, addr.data(), text, sizeof text);
  return text;
}

} // namespace

std::string denial_record(const RunIdentity &run, const timespec &when, pid_t pid,
                          const std::string &comm, const DenialFacts &facts) {
  constexpr int kEgressDrop = 1, kIngressDrop = 2, kConnect = 3, kSendmsg = 4; // sandbox_abi.h
  const char *event = facts.kind == kConnect   ? "connect-denied"
                      : facts.kind == kSendmsg ? "sendmsg-denied"
                      : facts.kind == kEgressDrop || facts.kind == kIngressDrop
                          ? "packet-dropped"
                          : "denied-unattributed";
  json::Writer w;
  begin_record(w, event, run, when, pid, comm);
  bool has_ports = facts.port != 0 || facts.protocol == IPPROTO_TCP || facts.protocol == IPPROTO_UDP;
  if (facts.kind == kConnect || facts.kind == kSendmsg) {
    w.key("family").value(facts.family == AF_INET6 ? "ipv6" : "ipv4");
    w.key("protocol").value(protocol_name(facts.protocol));
    w.key("daddr").value(address_text(facts.family, facts.addr));
    if (has_ports)
      w.key("dport").value(static_cast<int>(facts.port));
  } else if (facts.kind == kEgressDrop || facts.kind == kIngressDrop) {
    bool ingress = facts.kind == kIngressDrop;
    std::string remote = address_text(facts.family, facts.addr);
    std::string local = address_text(facts.family, facts.local_addr);
    w.key("direction").value(ingress ? "ingress" : "egress");
    w.key("family").value(facts.family == AF_INET6 ? "ipv6" : "ipv4");
    w.key("protocol").value(protocol_name(facts.protocol));
    w.key("saddr").value(ingress ? remote : local);
    w.key("daddr").value(ingress ? local : remote);
    if (has_ports) {
      w.key("sport").value(static_cast<int>(ingress ? facts.port : facts.local_port));
      w.key("dport").value(static_cast<int>(ingress ? facts.local_port : facts.port));
    }
  }
  w.key("count").value(static_cast<unsigned long long>(facts.count));
  return w.end_object().str();
}

std::string syscall_record(const RunIdentity &run, const timespec &when, pid_t pid,
                           const std::string &comm, const SyscallFacts &facts) {
  char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, facts.nr);
  std::string syscall = name ? name : "syscall " + std::to_string(facts.nr);
  std::free(name);
  json::Writer w;
  bool logged = facts.action == SyscallAction::log;
  begin_record(w, logged ? "syscall-logged" : "syscall-denied", run, when, pid, comm);
  w.key("syscall").value(syscall);
  w.key("nr").value(facts.nr);
  if (facts.action == SyscallAction::kill) {
    w.key("action").value("kill");
  } else if (facts.action == SyscallAction::errno_return) {
    w.key("action").value("errno");
    std::string_view errno_text = names::errno_name(facts.err);
    w.key("errno").value(errno_text.empty() ? std::to_string(facts.err) : std::string(errno_text));
  }
  w.key("count").value(static_cast<unsigned long long>(facts.count));
  return w.end_object().str();
}

std::string exit_record(const RunIdentity &run, const timespec &when, pid_t pid,
                        const std::string &comm, const ExitFacts &facts) {
  json::Writer w;
  begin_record(w, "exit", run, when, pid, comm);
  w.key("status").value(facts.status);
  w.key("duration_ms").value(static_cast<unsigned long long>(facts.duration_ms));
  w.key("stage").value(facts.stage);
  if (facts.ip) {
    const netfilter::IpCounters &ip = *facts.ip;
    w.key("ip_ingress_bytes").value(static_cast<unsigned long long>(ip.ingress_bytes));
    w.key("ip_ingress_packets").value(static_cast<unsigned long long>(ip.ingress_packets));
    w.key("ip_egress_bytes").value(static_cast<unsigned long long>(ip.egress_bytes));
    w.key("ip_egress_packets").value(static_cast<unsigned long long>(ip.egress_packets));
    w.key("ip_dropped_ingress_packets")
        .value(static_cast<unsigned long long>(ip.dropped_ingress_packets));
    w.key("ip_dropped_egress_packets")
        .value(static_cast<unsigned long long>(ip.dropped_egress_packets));
    static constexpr const char *kProtocols[] = {"tcp", "udp", "icmp", "other"};
    w.key("ip_protocols").begin_object();
    for (std::size_t i = 0; i < 4; ++i) {
      w.key(kProtocols[i]).begin_object();
      w.key("bytes").value(static_cast<unsigned long long>(ip.protocol_bytes[i]));
      w.key("packets").value(static_cast<unsigned long long>(ip.protocol_packets[i]));
      w.end_object();
    }
    w.end_object();
  }
  return w.end_object().str();
}

} // namespace rf::audit
