// Result<T>: a value or an Error (errno + message), shaped like std::expected.
// C++23 is not assumed, so this is a small hand-rolled variant.
#pragma once

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>
#include <variant>

namespace ctr {

struct Error {
  int code = 0;  // errno value, 0 when not a system error
  std::string message;

  // Prefixes context, e.g. Error{..,"permission denied"}.context("mount `/proc`")
  // gives "mount `/proc`: permission denied".
  Error context(const std::string& what) const& { return Error{code, what + ": " + message}; }
  Error context(const std::string& what) && {
    message = what + ": " + message;
    return std::move(*this);
  }
};

// An Error from the current errno, e.g. sys_error("open `x`").
inline Error sys_error(const std::string& what, int err = errno) {
  return Error{err, what + ": " + std::strerror(err)};
}
inline Error make_error(std::string message, int err = 0) { return Error{err, std::move(message)}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : data_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(data_); }
  Error&& error() && { return std::get<1>(std::move(data_)); }

 private:
  std::variant<T, Error> data_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace ctr

// Propagate an error with added context: TRY_CTX(x, expr, "doing y").
#define CTR_CONCAT_(a, b) a##b
#define CTR_CONCAT(a, b) CTR_CONCAT_(a, b)
#define TRY_IMPL_(tmp, var, expr)            \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return std::move(tmp).error(); \
  auto var = std::move(tmp).value()
// Declares `var` from a Result<T> expression, returning its error if any.
#define TRY_ASSIGN(var, expr) TRY_IMPL_(CTR_CONCAT(try_tmp_, __LINE__), var, expr)
// Returns the error of a Result<void> (or any Result) expression, if any.
#define TRY(expr)                                      \
  do {                                                 \
    auto try_status_ = (expr);                         \
    if (!try_status_.ok()) return std::move(try_status_).error(); \
  } while (0)
#define TRY_CTX(expr, what)                                            \
  do {                                                                 \
    auto try_status_ = (expr);                                         \
    if (!try_status_.ok()) return std::move(try_status_).error().context(what); \
  } while (0)
