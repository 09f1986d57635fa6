#include "seccomp/notifications.hpp"

#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <string_view>
#include <sys/ioctl.h>
#include <unistd.h>

namespace rf::seccomp {
namespace {

// Name and Tgid of a thread, from /proc/TID/status.
void describe(pid_t tid, AnsweredCall &call) {
  std::string path = "/proc/" + std::to_string(tid) + "/status";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  char text[512];
  ssize_t n = fd ? ::read(fd.get(), text, sizeof text) : -1;
  if (n <= 0)
    return;
  std::string_view status(text, static_cast<std::size_t>(n));
  auto field = [&](std::string_view key) {
    std::size_t at = status.find(key);
    if (at == std::string_view::npos)
      return std::string_view();
    std::string_view rest = status.substr(at + key.size());
    rest.remove_prefix(std::min(rest.find_first_not_of(" \t"), rest.size()));
    return rest.substr(0, rest.find('\n'));
  };
  call.comm = std::string(field("Name:"));
  std::string_view tgid = field("\nTgid:");
  std::from_chars(tgid.data(), tgid.data() + tgid.size(), call.pid);
}

bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

} // namespace

Notifications::Notifications(UniqueFd listener, const std::vector<NotifiedCall> &calls)
    : listener_(std::move(listener)) {
  for (const NotifiedCall &call : calls)
    errno_of_[call.nr] = call.err;
}

bool Notifications::has_waiting() const { return readable_now(listener_.get()); }

std::vector<AnsweredCall> Notifications::answer_waiting() {
  std::vector<AnsweredCall> answered;
  // Bounded, so that a flood of refused calls cannot starve the rest of the supervisor.
  for (int i = 0; i < 256 && (i == 0 || readable_now(listener_.get())); ++i) {
    seccomp_notif request{};
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_RECV, &request) < 0)
      break; // ENOENT: the caller was killed meanwhile
    AnsweredCall call;
    call.nr = request.data.nr;
    auto known = errno_of_.find(call.nr);
    // Only the calls the filter was built to hand over come here; anything else is refused.
    call.err = known != errno_of_.end() ? known->second : EPERM;
    describe(static_cast<pid_t>(request.pid), call);
    seccomp_notif_resp response{};
    response.id = request.id;
    if (call.err == 0)
      response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE; // SystemCallLog=: the call runs
    else
      response.error = -call.err;
    // ENOENT: the caller died, or a signal interrupted the call, which it makes again (a
    // second notification): only an answer that arrived counts.
    if (::ioctl(listener_.get(), SECCOMP_IOCTL_NOTIF_SEND, &response) == 0)
      answered.push_back(std::move(call));
  }
  return answered;
}

} // namespace rf::seccomp
