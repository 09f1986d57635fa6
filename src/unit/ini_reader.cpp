#include "unit/ini_reader.hpp"

#include <algorithm>
#include <cstring>
#include <ini.h>

namespace rf::unit {
namespace {

constexpr std::string_view kWhitespace = " \t\r\n";

std::string_view trim(std::string_view s) {
  auto b = s.find_first_not_of(kWhitespace);
  if (b == std::string_view::npos)
    return {};
  auto e = s.find_last_not_of(kWhitespace);
  return s.substr(b, e - b + 1);
}

bool is_comment(std::string_view line) {
  return !line.empty() && (line.front() == '#' || line.front() == ';');
}

bool valid_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '-' || c == '.';
  });
}

// An odd number of trailing backslashes continues the line; an even number are escaped ones.
bool ends_with_continuation(std::string_view line) {
  size_t n = 0;
  while (n < line.size() && line[line.size() - 1 - n] == '\\')
    ++n;
  return n % 2 == 1;
}

struct LogicalLine {
  std::string text; // what inih is given, ending in '\n'
  int first_line;   // physical line where it starts
};

// Joins "\" continuations (systemd: the backslash becomes a space; comment lines inside a
// continuation are skipped) and blanks out lines that inih would mishandle, after
// reporting them. Only well-formed section headers and KEY=VALUE lines reach inih.
std::vector<LogicalLine> logical_lines(std::string_view text, const std::string &file,
                                       Diagnostics &diags) {
  std::vector<LogicalLine> lines;
  std::string pending;
  int pending_start = 0;
  int number = 0;
  auto emit = [&](std::string line, int start) {
    std::string_view t = trim(line);
    Origin where{file, start};
    if (t.empty() || is_comment(t)) {
      lines.push_back({"\n", start});
    } else if (t.front() == '[') {
      if (t.back() != ']' || t.size() < 3) {
        diags.error(where, "invalid section header '" + std::string(t) + "'");
        lines.push_back({"\n", start});
      } else {
        lines.push_back({std::string(t) + "\n", start});
      }
    } else {
      auto eq = t.find('=');
      std::string_view key = eq == std::string_view::npos ? t : trim(t.substr(0, eq));
      if (eq == std::string_view::npos) {
        diags.error(where, "missing '=' in '" + std::string(t) + "'");
        lines.push_back({"\n", start});
      } else if (!valid_key(key)) {
        diags.error(where, "invalid directive name '" + std::string(key) + "'");
        lines.push_back({"\n", start});
      } else {
        lines.push_back({std::string(t) + "\n", start});
      }
    }
  };

  size_t pos = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    pos = 3; // UTF-8 byte order mark
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++number;
    if (raw.find('\0') != std::string_view::npos) {
      diags.error({file, number}, "line contains a NUL byte");
      raw = {};
    }
    std::string_view line = trim(raw);
    bool continuing = !pending.empty() || pending_start != 0;
    if (continuing && is_comment(line))
      continue;
    if (!continuing)
      pending_start = number;
    if (ends_with_continuation(line)) {
      pending.append(line.substr(0, line.size() - 1));
      pending.push_back(' ');
      continue;
    }
    pending.append(line);
    emit(std::move(pending), pending_start);
    pending.clear();
    pending_start = 0;
  }
  if (pending_start != 0)
    emit(std::move(pending), pending_start); // a file ending in "\" ends the line
  return lines;
}

struct ParseState {
  std::vector<LogicalLine> lines;
  size_t next = 0;           // next logical line to hand out
  size_t offset = 0;         // bytes of lines[next - 1] already handed out
  bool split = false;        // inih cut the current line: its assignment is void
  const std::string *file;
  Diagnostics *diags;
  std::vector<RawAssignment> out;

  const LogicalLine &current() const { return lines[next - 1]; }
  bool mid_line() const { return next > 0 && offset < current().text.size(); }
};

// fgets() semantics over the logical lines: up to num-1 bytes, stopping after '\n'.
char *read_line(char *buf, int num, void *stream) {
  auto *st = static_cast<ParseState *>(stream);
  if (num <= 1)
    return nullptr;
  if (!st->mid_line()) {
    if (st->next == st->lines.size())
      return nullptr;
    ++st->next;
    st->offset = 0;
    st->split = false;
  }
  const std::string &text = st->current().text;
  size_t n = std::min(text.size() - st->offset, static_cast<size_t>(num - 1));
  std::memcpy(buf, text.data() + st->offset, n);
  buf[n] = '\0';
  st->offset += n;
  return buf;
}

int on_assignment(void *user, const char *section, const char *name, const char *value) {
  auto *st = static_cast<ParseState *>(user);
  Origin where{*st->file, st->current().first_line};
  if (st->mid_line() || st->split) {
    // inih stopped short of the line's end; never keep a cut value.
    if (!st->split)
      st->diags->error(where, "line too long");
    st->split = true;
    return 1;
  }
  if (*section == '\0') {
    st->diags->error(where, std::string("assignment outside of a section: ") + name);
    return 1;
  }
  st->out.push_back({section, name, value, where});
  return 1;
}

// Debian's libinih exports its compile-time limits as variables; with these settings a
// line of any length arrives whole and ';' inside a value stays part of it.
void configure_inih() {
  ini_use_stack = false;
  ini_allow_realloc = true;
  ini_max_line = 1 << 26;
  ini_allow_inline_comments = false;
  ini_allow_multiline = false;
  ini_stop_on_first_error = false;
  ini_allow_no_value = false;
}

} // namespace

std::vector<RawAssignment> parse_ini(std::string_view text, const std::string &file_name,
                                     Diagnostics &diags) {
  configure_inih();
  ParseState st;
  st.lines = logical_lines(text, file_name, diags);
  st.file = &file_name;
  st.diags = &diags;
  int rc = ini_parse_stream(read_line, &st, on_assignment, &st);
  if (rc > 0) {
    size_t index = std::min(static_cast<size_t>(rc), st.lines.size()) - 1;
    diags.error({file_name, st.lines.empty() ? 0 : st.lines[index].first_line},
                "syntax error");
  } else if (rc < 0) {
    diags.error({file_name, 0}, "out of memory while parsing");
  }
  return std::move(st.out);
}

} // namespace rf::unit
