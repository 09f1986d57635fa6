// The service's environment, built the way systemd builds it: a clean slate, never the
// caller's environment. Pure logic, apart from reading EnvironmentFile= files.
#pragma once

#include "policy/policy.hpp"
#include "util/result.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <utility>
#include <vector>

namespace rf::launch {

// systemd's default PATH for services (split-usr build, as Debian's systemd 252).
inline constexpr const char *kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

using EnvVars = std::vector<std::pair<std::string, std::string>>; // in order, names unique

// Parses the text of an EnvironmentFile= as systemd's load_env_file() does: KEY=VALUE
// lines, blank lines and lines starting with '#' or ';' skipped, leading whitespace and
// whitespace around '=' dropped, an optional "export " prefix, single quotes literal,
// double quotes with \" \\ \` \$ escapes and \newline continuation, unquoted values with
// trailing whitespace trimmed and backslash escapes. A later assignment of the same name
// replaces the earlier one. Every malformed line is an error "PATH:LINE: what is wrong"
// (systemd only warns; a silently dropped variable is a guess).
Result<EnvVars> parse_environment_file(std::string_view text, const std::string &path);

// Reads and parses one EnvironmentFile=; a missing file is no error when `optional`.
Result<EnvVars> read_environment_file(const EnvironmentFile &file);

// What the caller passes through to the service: systemd's notify and socket-activation
// protocols, and the terminal type when stdin is a terminal.
struct Passthrough {
  std::optional<std::string> notify_socket; // NOTIFY_SOCKET
  std::optional<std::string> listen_fds;    // LISTEN_FDS, only if LISTEN_PID named us
  std::optional<std::string> listen_fdnames;
  std::optional<std::string> term; // TERM, only when stdin is a terminal

  // From an environment (an envp-style list) and the facts that decide what applies.
  static Passthrough from(const std::vector<std::string> &caller_env, pid_t own_pid,
                          bool stdin_is_tty);
};

// The account of User=, resolved by the supervisor before the child exists.
struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
  std::string shell;
};

// The final environment, as "KEY=VALUE" strings, in systemd's order of precedence:
// PATH, INVOCATION_ID, then USER/LOGNAME/HOME/SHELL when `account` is given (User= set),
// then the pass-through variables, then Environment= (policy.environment, in order), then
// the EnvironmentFile= variables (later wins; a name set twice appears once, at the place
// of its first assignment, with the last value). If LISTEN_FDS passes through, a
// "LISTEN_PID=" entry is added last with an empty value: the child fills in its own pid.
std::vector<std::string> build_environment(const Policy &policy, const std::string &invocation_id,
                                           const Account *account, const Passthrough &passthrough,
                                           const EnvVars &environment_files);

} // namespace rf::launch
