// A problem found in a unit, with the place it was found. Parsing collects all of them, so
// `verify` can print every problem of every file, not only the first.
#pragma once

#include "policy/policy.hpp"

#include <string>
#include <vector>

namespace rf {

struct Diagnostic {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  Origin origin;
  std::string message;

  // "FILE:LINE: error: MESSAGE", the format of `verify` and of every parse error.
  std::string str() const {
    std::string where = origin.line > 0 ? origin.str() : origin.file;
    return where + (severity == Severity::error ? ": error: " : ": warning: ") + message;
  }
};

class Diagnostics {
public:
  void error(Origin where, std::string message) {
    items_.push_back({Diagnostic::Severity::error, std::move(where), std::move(message)});
  }
  void warning(Origin where, std::string message) {
    items_.push_back({Diagnostic::Severity::warning, std::move(where), std::move(message)});
  }
  bool has_errors() const {
    for (const auto &d : items_)
      if (d.severity == Diagnostic::Severity::error)
        return true;
    return false;
  }
  const std::vector<Diagnostic> &items() const { return items_; }
  void append(const Diagnostics &other) {
    items_.insert(items_.end(), other.items_.begin(), other.items_.end());
  }

private:
  std::vector<Diagnostic> items_;
};

} // namespace rf
