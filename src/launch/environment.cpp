#include "launch/environment.hpp"

#include "unit/exec_line.hpp"
#include "util/unique_fd.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <fcntl.h>
#include <unistd.h>

namespace rf::launch {
namespace {

// Sets `name` in `vars`: a name already present keeps its place and takes the new value.
void assign(EnvVars &vars, std::string name, std::string value) {
  auto it = std::find_if(vars.begin(), vars.end(),
                         [&](const auto &var) { return var.first == name; });
  if (it != vars.end())
    it->second = std::move(value);
  else
    vars.emplace_back(std::move(name), std::move(value));
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Strips the shell's "export " so that a file written for `. file` also loads here.
std::string_view without_export_prefix(std::string_view key) {
  constexpr std::string_view kExport = "export";
  if (key.size() <= kExport.size() || key.substr(0, kExport.size()) != kExport ||
      !is_blank(key[kExport.size()]))
    return key;
  key.remove_prefix(kExport.size());
  while (!key.empty() && is_blank(key.front()))
    key.remove_prefix(1);
  return key;
}

// One pass over the text with the states of systemd's parse_env_file_internal().
class EnvFileParser {
public:
  EnvFileParser(std::string_view text, const std::string &path) : text_(text), path_(path) {}

  Result<EnvVars> parse() {
    for (pos_ = 0; pos_ < text_.size(); ++pos_)
      RF_TRY(feed(text_[pos_]));
    RF_TRY(finish_text());
    return std::move(vars_);
  }

private:
  enum class State {
    pre_key,
    key,
    pre_value,
    value,
    value_escape,
    single_quoted,
    double_quoted,
    double_quoted_escape,
    comment,
  };

  // A lone '\r' ends a line, as in systemd; a '\r' of a CRLF pair is mere whitespace.
  bool is_newline(char c) const { return c == '\n' || (c == '\r' && !before_lf()); }
  bool is_space(char c) const { return is_blank(c) || (c == '\r' && before_lf()); }
  bool before_lf() const { return pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n'; }

  Error error(unsigned line, const std::string &what) const {
    return Error::msg(path_ + ":" + std::to_string(line) + ": " + what);
  }

  Status feed(char c) {
    if (c == '\0') // the value could not be passed in an envp string
      return error(line_, "NUL byte in the file");
    Status status = Ok{};
    switch (state_) {
    case State::pre_key: on_pre_key(c); break;
    case State::key: status = on_key(c); break;
    case State::pre_value: status = on_pre_value(c); break;
    case State::value: status = on_value(c); break;
    case State::value_escape: on_value_escape(c); break;
    case State::single_quoted: on_single_quoted(c); break;
    case State::double_quoted: on_double_quoted(c); break;
    case State::double_quoted_escape: on_double_quoted_escape(c); break;
    case State::comment: on_comment(c); break;
    }
    if (is_newline(c))
      ++line_;
    return status;
  }

  void on_pre_key(char c) {
    if (is_newline(c) || is_space(c))
      return;
    assignment_line_ = line_;
    if (c == '#' || c == ';')
      state_ = State::comment;
    else if (c == '=') // an empty name, reported when the assignment ends
      state_ = State::pre_value;
    else {
      key_ = c;
      state_ = State::key;
    }
  }

  Status on_key(char c) {
    if (is_newline(c))
      return error(assignment_line_, "missing '=' in '" + trimmed_key() + "'");
    if (c == '=')
      state_ = State::pre_value;
    else
      key_ += c;
    return Ok{};
  }

  Status on_pre_value(char c) {
    if (is_newline(c))
      return finish_assignment();
    if (c == '\'' || c == '"') {
      quote_line_ = line_;
      state_ = c == '\'' ? State::single_quoted : State::double_quoted;
    } else if (c == '\\') {
      state_ = State::value_escape;
    } else if (!is_space(c)) {
      value_ += c;
      trailing_space_ = std::string::npos;
      state_ = State::value;
    }
    return Ok{};
  }

  // Unquoted: quotes are literal, trailing whitespace goes, a backslash keeps the next char.
  Status on_value(char c) {
    if (is_newline(c))
      return finish_assignment();
    if (c == '\\') {
      state_ = State::value_escape;
      trailing_space_ = std::string::npos;
      return Ok{};
    }
    if (!is_space(c))
      trailing_space_ = std::string::npos;
    else if (trailing_space_ == std::string::npos)
      trailing_space_ = value_.size();
    value_ += c;
    return Ok{};
  }

  void on_value_escape(char c) {
    if (c == '\r' && before_lf()) // backslash CRLF continues the line like backslash LF
      return;
    state_ = State::value;
    if (!is_newline(c)) // an escaped newline joins the lines
      value_ += c;
  }

  void on_single_quoted(char c) {
    if (c == '\'')
      state_ = State::pre_value;
    else
      value_ += c;
  }

  void on_double_quoted(char c) {
    if (c == '"')
      state_ = State::pre_value;
    else if (c == '\\')
      state_ = State::double_quoted_escape;
    else
      value_ += c;
  }

  // As the shell: only \" \\ \` \$ and \newline are escapes; any other backslash stays.
  void on_double_quoted_escape(char c) {
    if (c == '\r' && before_lf())
      return;
    state_ = State::double_quoted;
    if (c == '"' || c == '\\' || c == '`' || c == '$')
      value_ += c;
    else if (c != '\n')
      value_ += std::string{'\\', c};
  }

  // A comment ends at its newline, even after a backslash (systemd >= 254; 252 would
  // continue the comment and silently drop the next line).
  void on_comment(char c) {
    if (is_newline(c))
      state_ = State::pre_key;
  }

  Status finish_text() {
    switch (state_) {
    case State::key:
      return error(assignment_line_, "missing '=' in '" + trimmed_key() + "'");
    case State::single_quoted:
    case State::double_quoted:
    case State::double_quoted_escape:
      return error(quote_line_, "unterminated quote");
    case State::pre_value:
    case State::value:
    case State::value_escape:
      return finish_assignment();
    case State::pre_key:
    case State::comment:
      break;
    }
    return Ok{};
  }

  std::string trimmed_key() const {
    size_t end = key_.size();
    while (end > 0 && (is_blank(key_[end - 1]) || key_[end - 1] == '\r'))
      --end;
    return key_.substr(0, end);
  }

  Status finish_assignment() {
    if (state_ == State::value && trailing_space_ != std::string::npos)
      value_.resize(trailing_space_);
    std::string key = trimmed_key();
    std::string name(without_export_prefix(key));
    if (!rf::unit::valid_env_name(name))
      return error(assignment_line_, "invalid variable name '" + name + "'");
    assign(vars_, std::move(name), std::move(value_));
    key_.clear();
    value_.clear();
    trailing_space_ = std::string::npos;
    state_ = State::pre_key;
    return Ok{};
  }

  std::string_view text_;
  const std::string &path_;
  size_t pos_ = 0;
  State state_ = State::pre_key;
  std::string key_, value_;
  size_t trailing_space_ = std::string::npos; // where the unquoted value's trailing run starts
  unsigned line_ = 1;
  unsigned assignment_line_ = 1;
  unsigned quote_line_ = 1;
  EnvVars vars_;
};

Result<std::string> read_whole_file(const std::string &path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd)
    return Error::from_errno("Failed to read environment file '" + path + "'");
  std::string text;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Error::from_errno("Failed to read environment file '" + path + "'");
    if (n == 0)
      return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

// Only plain digits: no sign, no space, no base prefix, as sd_listen_fds() would accept.
std::optional<unsigned long long> parse_decimal(std::string_view text) {
  unsigned long long number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size())
    return std::nullopt;
  return number;
}

// The first assignment of `name`, as getenv() would find it.
std::optional<std::string> lookup(const std::vector<std::string> &env, std::string_view name) {
  for (const auto &entry : env)
    if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 &&
        entry[name.size()] == '=')
      return entry.substr(name.size() + 1);
  return std::nullopt;
}

bool names_us(const std::optional<std::string> &listen_pid, pid_t own_pid) {
  if (!listen_pid || own_pid <= 0)
    return false;
  auto pid = parse_decimal(*listen_pid);
  return pid && *pid == static_cast<unsigned long long>(own_pid);
}

bool is_positive_number(const std::optional<std::string> &text) {
  if (!text)
    return false;
  auto number = parse_decimal(*text);
  return number && *number > 0;
}

std::optional<std::string> non_empty(std::optional<std::string> value) {
  if (value && value->empty())
    return std::nullopt;
  return value;
}

} // namespace

Result<EnvVars> parse_environment_file(std::string_view text, const std::string &path) {
  return EnvFileParser(text, path).parse();
}

Result<EnvVars> read_environment_file(const EnvironmentFile &file) {
  auto text = read_whole_file(file.path);
  if (!text) {
    if (file.optional && text.error().err == ENOENT)
      return EnvVars{};
    return text.error();
  }
  return parse_environment_file(*text, file.path);
}

Passthrough Passthrough::from(const std::vector<std::string> &caller_env, pid_t own_pid,
                              bool stdin_is_tty) {
  Passthrough passthrough;
  passthrough.notify_socket = non_empty(lookup(caller_env, "NOTIFY_SOCKET"));
  // Sockets handed to someone else (a LISTEN_PID of another process) are not the service's.
  auto listen_fds = lookup(caller_env, "LISTEN_FDS");
  if (names_us(lookup(caller_env, "LISTEN_PID"), own_pid) && is_positive_number(listen_fds)) {
    passthrough.listen_fds = std::move(listen_fds);
    passthrough.listen_fdnames = lookup(caller_env, "LISTEN_FDNAMES");
  }
  if (stdin_is_tty)
    passthrough.term = non_empty(lookup(caller_env, "TERM"));
  return passthrough;
}

std::vector<std::string> build_environment(const Policy &policy, const std::string &invocation_id,
                                           const Account *account, const Passthrough &passthrough,
                                           const EnvVars &environment_files) {
  EnvVars vars;
  assign(vars, "PATH", kDefaultPath);
  assign(vars, "INVOCATION_ID", invocation_id);
  if (account) {
    assign(vars, "USER", account->name);
    assign(vars, "LOGNAME", account->name);
    assign(vars, "HOME", account->home);
    assign(vars, "SHELL", account->shell);
  }
  const std::pair<const char *, const std::optional<std::string> *> passed[] = {
      {"NOTIFY_SOCKET", &passthrough.notify_socket},
      {"LISTEN_FDS", &passthrough.listen_fds},
      {"LISTEN_FDNAMES", &passthrough.listen_fdnames},
      {"TERM", &passthrough.term},
  };
  for (const auto &[name, value] : passed)
    if (*value)
      assign(vars, name, **value);
  for (const auto &entry : policy.environment) {
    auto eq = entry.find('=');
    if (eq != std::string::npos) // the unit loader validated every entry
      assign(vars, entry.substr(0, eq), entry.substr(eq + 1));
  }
  for (const auto &[name, value] : environment_files)
    assign(vars, name, value);
  if (passthrough.listen_fds) {
    // Last and empty: the child writes its own pid here after fork, and no unit value stays.
    std::erase_if(vars, [](const auto &var) { return var.first == "LISTEN_PID"; });
    vars.emplace_back("LISTEN_PID", "");
  }
  std::vector<std::string> out;
  out.reserve(vars.size());
  for (const auto &[name, value] : vars)
    out.push_back(name + "=" + value);
  return out;
}

} // namespace rf::launch
