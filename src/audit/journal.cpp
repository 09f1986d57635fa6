#include "audit/journal.hpp"

#include "util/json_reader.hpp"

#include <cctype>
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/uio.h>

namespace rf::audit {
namespace {

constexpr const char *kJournalSocket = "/run/systemd/journal/socket";

struct EventId {
  std::string_view event, id;
};
// Fixed for ever: `journalctl MESSAGE_ID=…` finds one kind of record.
constexpr EventId kMessageIds[] = {
    {"start", "0c1b6f7e4a2d4c5e9b3f8a1d2e6c7b90"},
    {"exit", "5d9e2a7c1b4f4e8a8c6d3b2a1f0e9d71"},
    {"connect-denied", "a3f1c2e4b5d64a7c8e9f0b1a2c3d4e52"},
    {"sendmsg-denied", "b4e2d3f5c6e74b8d9fa0c1b2d3e4f563"},
    {"packet-dropped", "c5f3e4a6d7f84c9ea0b1d2c3e4f5a674"},
    {"syscall-denied", "d6a4f5b7e8a94daf81c2e3d4f5a6b785"},
    {"syscall-logged", "e7b5a6c8f9ba4eb092d3f4e5a6b7c896"},
    {"denied-unattributed", "f8c6b7d9a0cb4fc1a3e4a5f6b7c8d9a7"},
};

std::string upper(const std::string &key) {
  std::string out;
  for (char c : key)
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return out;
}

} // namespace

std::string_view message_id(std::string_view event) {
  for (const EventId &e : kMessageIds)
    if (e.event == event)
      return e.id;
  return {};
}

std::vector<std::string> journal_fields(std::string_view record) {
  std::vector<std::string> fields;
  std::string event, unit, message;
  Result<json::Value> parsed = json::parse(record);
  if (!parsed || !parsed->is_object())
    return fields;
  for (const auto &[key, member] : parsed->members) {
    if (!member.is_string() && !member.is_number())
      continue; // nested values stay in the file
    const std::string &value = member.text;
    if (key == "event")
      event = value;
    else if (key == "unit")
      unit = value;
    else if (key != "time" && key != "invocation")
      message += " " + key + "=" + value;
    fields.push_back("RINGFENCE_" + upper(key) + "=" + value);
  }
  fields.push_back("MESSAGE=" + unit + ": " + event + message);
  if (std::string_view id = message_id(event); !id.empty())
    fields.push_back("MESSAGE_ID=" + std::string(id));
  bool routine = event == "start" || event == "exit";
  fields.push_back(routine ? "PRIORITY=6" : "PRIORITY=5");
  fields.push_back("SYSLOG_IDENTIFIER=ringfence");
  return fields;
}

std::unique_ptr<Journal> Journal::open_if_running() {
  struct stat st {};
  if (::stat(kJournalSocket, &st) < 0 || !S_ISSOCK(st.st_mode))
    return nullptr;
  void *library = ::dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return nullptr;
  auto sendv = reinterpret_cast<SendV>(::dlsym(library, "sd_journal_sendv"));
  if (!sendv) {
    ::dlclose(library);
    return nullptr;
  }
  return std::unique_ptr<Journal>(new Journal(library, sendv));
}

Journal::~Journal() { ::dlclose(library_); }

void Journal::send(std::string_view record) const {
  std::vector<std::string> fields = journal_fields(record);
  std::vector<iovec> iov;
  for (std::string &field : fields)
    iov.push_back({field.data(), field.size()});
  sendv_(iov.data(), static_cast<int>(iov.size()));
}

} // namespace rf::audit
