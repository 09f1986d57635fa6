// Result<T>: a value or an Error carrying errno and context.
// g++ 12 in C++20 mode has no std::expected, so this is the project's small stand-in.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace rf {

struct Error {
  int err = 0;         // positive errno, 0 when the failure is not a system error
  std::string what;    // "what failed", without the errno text

  static Error from_errno(std::string what, int err = errno) {
    return Error{err, std::move(what)};
  }
  static Error msg(std::string what) { return Error{0, std::move(what)}; }

  // "what failed: strerror" — the one message printed at the edge.
  std::string message() const {
    if (err == 0)
      return what;
    return what + ": " + std::strerror(err);
  }
  // Prepends context, keeping errno: "Failed to load web.service: " + inner.
  Error wrap(const std::string &context) const & {
    return Error{err, context + ": " + what};
  }
};

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T &value() & { return std::get<0>(v_); }
  const T &value() const & { return std::get<0>(v_); }
  T &&value() && { return std::get<0>(std::move(v_)); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }

  const Error &error() const { return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

struct Ok {};

template <> class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Ok) {}
  Result(Error error) : error_(std::move(error)), failed_(true) {}
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error &error() const { return error_; }

private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

} // namespace rf

// Propagates an error from an expression returning Result<...>.
#define RF_TRY(expr)                                                           \
  do {                                                                         \
    if (auto rf_try_r_ = (expr); !rf_try_r_.ok())                              \
      return rf_try_r_.error();                                                \
  } while (0)
