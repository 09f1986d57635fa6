// The systemd journal as a second sink for audit records, where journald runs. libsystemd
// is loaded with dlopen() only then: linking it would cost every `ringfence run` ~1.4 ms of
// dynamic loading (docs/benchmarks.md), and on machines without journald it is not needed.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <sys/uio.h>
#include <vector>

namespace rf::audit {

// Journal fields of one audit record (a JSON object as AuditLog writes it): MESSAGE,
// MESSAGE_ID (fixed per event), PRIORITY, SYSLOG_IDENTIFIER=ringfence, and RINGFENCE_<KEY>
// for every top-level string or number of the record (RINGFENCE_UNIT, RINGFENCE_DADDR, …).
std::vector<std::string> journal_fields(std::string_view record);

// The MESSAGE_ID of an event, 32 hex digits; empty for an unknown event.
std::string_view message_id(std::string_view event);

class Journal {
public:
  // The journal, if its socket exists and libsystemd can be loaded; else nullptr.
  static std::unique_ptr<Journal> open_if_running();
  ~Journal();
  Journal(const Journal &) = delete;
  Journal &operator=(const Journal &) = delete;

  // Best effort: a journal that went away loses the record, the file keeps it.
  void send(std::string_view record) const;

private:
  using SendV = int (*)(const ::iovec *, int);
  Journal(void *library, SendV sendv) : library_(library), sendv_(sendv) {}
  void *library_;
  SendV sendv_;
};

} // namespace rf::audit
