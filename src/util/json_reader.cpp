#include "util/json_reader.hpp"

#include <charconv>

namespace rf::json {
namespace {

constexpr int kMaxDepth = 64;

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  Result<Value> parse_document() {
    auto value = parse_value(0);
    if (!value)
      return value;
    skip_space();
    if (pos_ != text_.size())
      return fail("unexpected text after the value");
    return value;
  }

private:
  Result<Value> parse_value(int depth);
  Result<Value> parse_object(int depth);
  Result<Value> parse_array(int depth);
  Result<Value> parse_number();
  Result<Value> parse_literal();
  Result<std::string> parse_string();
  Status append_escape(std::string &out);
  Result<unsigned> parse_hex4();

  void skip_space() {
    while (pos_ < text_.size() &&
           (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool at_end() const { return pos_ >= text_.size(); }
  char peek() const { return at_end() ? '\0' : text_[pos_]; }
  bool consume(char c) {
    if (peek() != c || at_end())
      return false;
    ++pos_;
    return true;
  }
  Error fail(const std::string &what) const {
    return Error::msg(what + " at offset " + std::to_string(pos_));
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

Result<Value> Parser::parse_value(int depth) {
  if (depth > kMaxDepth)
    return fail("nested too deeply");
  skip_space();
  if (at_end())
    return fail("unexpected end of text");
  char c = peek();
  if (c == '{')
    return parse_object(depth + 1);
  if (c == '[')
    return parse_array(depth + 1);
  if (c == '"') {
    auto s = parse_string();
    if (!s)
      return s.error();
    Value v;
    v.kind = Value::Kind::string;
    v.text = std::move(*s);
    return v;
  }
  if (c == '-' || (c >= '0' && c <= '9'))
    return parse_number();
  return parse_literal();
}

Result<Value> Parser::parse_object(int depth) {
  ++pos_; // '{'
  Value object;
  object.kind = Value::Kind::object;
  skip_space();
  if (consume('}'))
    return object;
  for (;;) {
    skip_space();
    if (peek() != '"')
      return fail("expected a string key");
    auto key = parse_string();
    if (!key)
      return key.error();
    skip_space();
    if (!consume(':'))
      return fail("expected ':'");
    auto member = parse_value(depth);
    if (!member)
      return member;
    object.members.emplace_back(std::move(*key), std::move(*member));
    skip_space();
    if (consume('}'))
      return object;
    if (!consume(','))
      return fail("expected ',' or '}'");
  }
}

Result<Value> Parser::parse_array(int depth) {
  ++pos_; // '['
  Value array;
  array.kind = Value::Kind::array;
  skip_space();
  if (consume(']'))
    return array;
  for (;;) {
    auto item = parse_value(depth);
    if (!item)
      return item;
    array.items.push_back(std::move(*item));
    skip_space();
    if (consume(']'))
      return array;
    if (!consume(','))
      return fail("expected ',' or ']'");
  }
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
Result<Value> Parser::parse_number() {
  std::size_t start = pos_;
  consume('-');
  if (consume('0')) {
  } else if (is_digit(peek())) {
    while (is_digit(peek()))
      ++pos_;
  } else {
    return fail("invalid number");
  }
  if (consume('.')) {
    if (!is_digit(peek()))
      return fail("invalid number");
    while (is_digit(peek()))
      ++pos_;
  }
  if (peek() == 'e' || peek() == 'E') {
    ++pos_;
    if (peek() == '+' || peek() == '-')
      ++pos_;
    if (!is_digit(peek()))
      return fail("invalid number");
    while (is_digit(peek()))
      ++pos_;
  }
  Value v;
  v.kind = Value::Kind::number;
  v.text = std::string(text_.substr(start, pos_ - start));
  return v;
}

Result<Value> Parser::parse_literal() {
  Value v;
  for (std::string_view word : {"true", "false", "null"}) {
    if (text_.substr(pos_, word.size()) != word)
      continue;
    pos_ += word.size();
    v.kind = word == "null" ? Value::Kind::null : Value::Kind::boolean;
    v.boolean = word == "true";
    return v;
  }
  return fail("unexpected character");
}

Result<std::string> Parser::parse_string() {
  ++pos_; // '"'
  std::string out;
  for (;;) {
    if (at_end())
      return fail("unterminated string");
    char c = text_[pos_++];
    if (c == '"')
      return out;
    if (static_cast<unsigned char>(c) < 0x20)
      return fail("control character in a string");
    if (c != '\\') {
      out += c;
      continue;
    }
    RF_TRY(append_escape(out));
  }
}

void append_utf8(std::string &out, unsigned code_point) {
  auto byte = [&out](unsigned b) { out += static_cast<char>(b); };
  if (code_point < 0x80) {
    byte(code_point);
  } else if (code_point < 0x800) {
    byte(0xC0 | (code_point >> 6));
    byte(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    byte(0xE0 | (code_point >> 12));
    byte(0x80 | ((code_point >> 6) & 0x3F));
    byte(0x80 | (code_point & 0x3F));
  } else {
    byte(0xF0 | (code_point >> 18));
    byte(0x80 | ((code_point >> 12) & 0x3F));
    byte(0x80 | ((code_point >> 6) & 0x3F));
    byte(0x80 | (code_point & 0x3F));
  }
}

Status Parser::append_escape(std::string &out) {
  if (at_end())
    return fail("unterminated string");
  char c = text_[pos_++];
  switch (c) {
  case '"': out += '"'; return Ok{};
  case '\\': out += '\\'; return Ok{};
  case '/': out += '/'; return Ok{};
  case 'b': out += '\b'; return Ok{};
  case 'f': out += '\f'; return Ok{};
  case 'n': out += '\n'; return Ok{};
  case 'r': out += '\r'; return Ok{};
  case 't': out += '\t'; return Ok{};
  case 'u': break;
  default: return fail("invalid escape");
  }
  auto unit = parse_hex4();
  if (!unit)
    return unit.error();
  unsigned code_point = *unit;
  if (code_point >= 0xD800 && code_point < 0xDC00) { // a high surrogate: its pair must follow
    if (!(consume('\\') && consume('u')))
      return fail("unpaired surrogate");
    auto low = parse_hex4();
    if (!low)
      return low.error();
    if (*low < 0xDC00 || *low >= 0xE000)
      return fail("unpaired surrogate");
    code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
  } else if (code_point >= 0xDC00 && code_point < 0xE000) {
    return fail("unpaired surrogate");
  }
  append_utf8(out, code_point);
  return Ok{};
}

Result<unsigned> Parser::parse_hex4() {
  if (text_.size() - pos_ < 4)
    return fail("invalid \\u escape");
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text_.data() + pos_, text_.data() + pos_ + 4, value, 16);
  if (ec != std::errc() || end != text_.data() + pos_ + 4)
    return fail("invalid \\u escape");
  pos_ += 4;
  return value;
}

template <typename Integer> std::optional<Integer> integer_of(const Value &v) {
  if (!v.is_number())
    return std::nullopt;
  Integer n{};
  const char *end = v.text.data() + v.text.size();
  auto [stop, ec] = std::from_chars(v.text.data(), end, n);
  if (ec != std::errc() || stop != end)
    return std::nullopt;
  return n;
}

} // namespace

const Value *Value::find(std::string_view key) const {
  for (auto it = members.rbegin(); it != members.rend(); ++it)
    if (it->first == key)
      return &it->second;
  return nullptr;
}

std::optional<long long> Value::as_integer() const { return integer_of<long long>(*this); }

std::optional<unsigned long long> Value::as_unsigned() const {
  return integer_of<unsigned long long>(*this);
}

Result<Value> parse(std::string_view text) { return Parser(text).parse_document(); }

} // namespace rf::json
