#include "audit/audit_log.hpp"

#include "util/json.hpp"

#include <cerrno>
#include <cstdio>
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
  return AuditLog(path, std::move(fd));
}

Status AuditLog::append(const std::string &record) {
  std::string line = record + "\n";
  ssize_t n = ::write(fd_.get(), line.data(), line.size());
  if (n != static_cast<ssize_t>(line.size()))
    return Error::from_errno("Failed to write to the audit log '" + path_ + "'", n < 0 ? errno : EIO);
  return Ok{};
}

std::string format_time(const timespec &realtime) {
  tm utc{};
  ::gmtime_r(&realtime.tv_sec, &utc);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                realtime.tv_nsec / 1000);
  return text;
}

std::string start_record(const RunIdentity &run, const timespec &when, pid_t pid,
                         const std::string &comm, const std::vector<std::string> &command,
                         const std::string &cgroup) {
  json::Writer w;
  begin_record(w, "start", run, when, pid, comm);
  w.key("command").begin_array();
  for (const std::string &word : command)
    w.value(word);
  w.end_array();
  w.key("cgroup").value(cgroup);
  return w.end_object().str();
}

std::string exit_record(const RunIdentity &run, const timespec &when, pid_t pid,
                        const std::string &comm, const ExitFacts &facts) {
  json::Writer w;
  begin_record(w, "exit", run, when, pid, comm);
  w.key("status").value(facts.status);
  w.key("duration_ms").value(static_cast<unsigned long long>(facts.duration_ms));
  w.key("stage").value(facts.stage);
  return w.end_object().str();
}

} // namespace rf::audit
