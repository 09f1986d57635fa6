// Just enough JSON reading for the audit log: one value (a record is one object per line)
// parsed into a small tree. Numbers keep their text, so integers of any size survive.
#pragma once

#include "util/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rf::json {

struct Value {
  enum class Kind { null, boolean, number, string, array, object };

  Kind kind = Kind::null;
  bool boolean = false;
  std::string text; // a string's contents (unescaped, UTF-8), or a number as written
  std::vector<Value> items;                          // array
  std::vector<std::pair<std::string, Value>> members; // object, in the order written

  bool is_string() const { return kind == Kind::string; }
  bool is_number() const { return kind == Kind::number; }
  bool is_object() const { return kind == Kind::object; }
  bool is_array() const { return kind == Kind::array; }

  // An object's member (the last one, if a key repeats), or nullptr.
  const Value *find(std::string_view key) const;
  // A number that is an integer in range ("12", "-3"; not "1.5" or "1e3").
  std::optional<long long> as_integer() const;
  std::optional<unsigned long long> as_unsigned() const;
};

// Parses exactly one JSON value, surrounded by optional white space. Nesting deeper than
// 64 levels, invalid escapes, bad numbers and trailing text are errors.
Result<Value> parse(std::string_view text);

} // namespace rf::json
