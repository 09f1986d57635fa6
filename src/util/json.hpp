// Just enough JSON writing for `show --json` and the audit log: escaped strings and a
// streaming object/array writer. No parsing here.
#pragma once

#include <string>
#include <string_view>

namespace rf::json {

// `s` as a JSON string literal, quotes included.
std::string quote(std::string_view s);

class Writer {
public:
  Writer &begin_object();
  Writer &end_object();
  Writer &begin_array();
  Writer &end_array();
  Writer &key(std::string_view k);
  Writer &value(std::string_view s);
  Writer &value(const char *s) { return value(std::string_view(s)); }
  Writer &value(long long n);
  Writer &value(unsigned long long n);
  Writer &value(int n) { return value(static_cast<long long>(n)); }
  Writer &value(bool b);
  Writer &raw(std::string_view json); // an already-encoded value

  const std::string &str() const { return out_; }

private:
  void separate();
  std::string out_;
  bool need_comma_ = false;
};

} // namespace rf::json
