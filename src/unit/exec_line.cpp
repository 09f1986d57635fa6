#include "unit/exec_line.hpp"

#include <algorithm>
#include <cctype>

namespace rf::unit {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string &out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Decodes the escape at text[i] (just after the backslash); advances i past it.
Result<std::string> unescape_one(std::string_view text, size_t &i) {
  char c = text[i++];
  switch (c) {
  case 'a': return std::string("\a");
  case 'b': return std::string("\b");
  case 'f': return std::string("\f");
  case 'n': return std::string("\n");
  case 'r': return std::string("\r");
  case 't': return std::string("\t");
  case 'v': return std::string("\v");
  case 's': return std::string(" ");
  case '\\': case '"': case '\'': case '$': case ';': return std::string(1, c);
  case 'x': {
    if (i + 2 > text.size() || hex_digit(text[i]) < 0 || hex_digit(text[i + 1]) < 0)
      return Error::msg("invalid \\x escape");
    char v = static_cast<char>(hex_digit(text[i]) * 16 + hex_digit(text[i + 1]));
    i += 2;
    if (v == 0)
      return Error::msg("\\x00 is not allowed");
    return std::string(1, v);
  }
  case 'u': case 'U': {
    size_t n = c == 'u' ? 4 : 8;
    if (i + n > text.size())
      return Error::msg(std::string("invalid \\") + c + " escape");
    unsigned long cp = 0;
    for (size_t k = 0; k < n; ++k) {
      int d = hex_digit(text[i + k]);
      if (d < 0)
        return Error::msg(std::string("invalid \\") + c + " escape");
      cp = cp * 16 + static_cast<unsigned long>(d);
    }
    i += n;
    if (cp == 0 || cp > 0x10FFFF)
      return Error::msg("invalid unicode escape");
    std::string out;
    append_utf8(out, cp);
    return out;
  }
  default:
    if (c >= '0' && c <= '7') {
      if (i + 2 > text.size() || text[i] < '0' || text[i] > '7' || text[i + 1] < '0' ||
          text[i + 1] > '7')
        return Error::msg("invalid octal escape");
      int v = (c - '0') * 64 + (text[i] - '0') * 8 + (text[i + 1] - '0');
      i += 2;
      if (v == 0 || v > 255)
        return Error::msg("invalid octal escape");
      return std::string(1, static_cast<char>(v));
    }
    return Error::msg(std::string("unknown escape sequence '\\") + c + "'");
  }
}

// Scans raw words (quotes and escapes kept) for a lone ';'.
bool has_command_separator(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i]))
      ++i;
    size_t start = i;
    char quote = 0;
    while (i < text.size() && (quote || !is_space(text[i]))) {
      if (text[i] == '\\')
        ++i;
      else if (quote && text[i] == quote)
        quote = 0;
      else if (!quote && (text[i] == '"' || text[i] == '\''))
        quote = text[i];
      ++i;
    }
    if (text.substr(start, std::min(i, text.size()) - start) == ";")
      return true;
  }
  return false;
}

} // namespace

Result<std::vector<std::string>> split_words(std::string_view text) {
  std::vector<std::string> words;
  size_t i = 0;
  while (true) {
    while (i < text.size() && is_space(text[i]))
      ++i;
    if (i == text.size())
      return words;
    std::string word;
    char quote = 0;
    while (i < text.size() && (quote || !is_space(text[i]))) {
      char c = text[i];
      if (c == '\\') {
        if (++i == text.size())
          return Error::msg("trailing backslash");
        auto decoded = unescape_one(text, i);
        if (!decoded)
          return decoded.error();
        word += *decoded;
      } else if (quote && c == quote) {
        quote = 0;
        ++i;
      } else if (!quote && (c == '"' || c == '\'')) {
        quote = c;
        ++i;
      } else {
        word += c;
        ++i;
      }
    }
    if (quote)
      return Error::msg(std::string("unterminated ") + (quote == '"' ? "double" : "single") +
                        " quote");
    words.push_back(std::move(word));
  }
}

Result<ExecCommand> parse_exec_command(std::string_view value) {
  ExecCommand cmd;
  // Prefixes come first, unquoted, in any order.
  size_t i = 0;
  while (i < value.size() && !is_space(value[i])) {
    char c = value[i];
    if (c == '-') {
      cmd.ignore_failure = true;
    } else if (c == '@') {
      cmd.argv0 = std::string();
    } else if (c == ':') {
      cmd.expand_environment = false;
    } else if (c == '+' || c == '!') {
      return Error::msg(std::string("the '") + (value.substr(i, 2) == "!!" ? "!!" : std::string(1, c)) +
                        "' prefix runs the command with less sandboxing; ringfence refuses it");
    } else {
      break;
    }
    ++i;
  }
  // Only a word that is exactly an unquoted, unescaped ';' separates commands in systemd.
  std::string_view rest = value.substr(i);
  if (has_command_separator(rest))
    return Error::msg("';' separated command lists are not supported; use one ExecStart= "
                      "line per command (Type=oneshot)");
  auto words = split_words(rest);
  if (!words)
    return words.error();
  if (words->empty())
    return Error::msg("ExecStart= has no command");
  if (cmd.argv0) {
    if (words->size() < 2)
      return Error::msg("the '@' prefix needs a path and an argv[0]");
    cmd.argv0 = (*words)[1];
    words->erase(words->begin() + 1);
  }
  cmd.argv = std::move(*words);
  const std::string &path = cmd.argv[0];
  if (path.empty())
    return Error::msg("empty command path");
  if (path[0] != '/' && path.find('/') != std::string::npos)
    return Error::msg("command path '" + path + "' must be absolute or a plain name");
  return cmd;
}

bool valid_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_'))
      return false;
  return true;
}

namespace {

std::string lookup(const std::map<std::string, std::string> &env, const std::string &name) {
  auto it = env.find(name);
  return it == env.end() ? std::string() : it->second;
}

// ${NAME} inline, $$ → '$'; any other '$' stays as written.
std::string expand_inline(const std::string &word, const std::map<std::string, std::string> &env) {
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    if (word[i] == '$' && i + 1 < word.size() && word[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (word[i] == '$' && i + 1 < word.size() && word[i + 1] == '{') {
      auto close = word.find('}', i + 2);
      std::string name = close == std::string::npos ? "" : word.substr(i + 2, close - i - 2);
      if (close == std::string::npos || !valid_env_name(name)) {
        out += word[i];
        continue;
      }
      out += lookup(env, name);
      i = close;
    } else {
      out += word[i];
    }
  }
  return out;
}

} // namespace

std::vector<std::string> expand_argv(const std::vector<std::string> &words,
                                     const std::map<std::string, std::string> &env) {
  std::vector<std::string> out;
  for (const auto &word : words) {
    if (word.size() > 1 && word[0] == '$' && valid_env_name(std::string_view(word).substr(1))) {
      auto split = split_words(lookup(env, word.substr(1)));
      if (split) // systemd splits at whitespace and unquotes; a malformed value stays whole
        out.insert(out.end(), split->begin(), split->end());
      else
        out.push_back(lookup(env, word.substr(1)));
      continue;
    }
    out.push_back(expand_inline(word, env));
  }
  return out;
}

} // namespace rf::unit
