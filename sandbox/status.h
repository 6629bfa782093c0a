// Errors as values across module boundaries. sandbox/ reports what went wrong in its own
// vocabulary; server/ maps each ErrorKind to a wire error in exactly one place.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace cordon {

enum class ErrorKind {
  kInvalidArgument,  // the request itself is malformed (bad path syntax, bad value)
  kPolicyDenied,     // the policy forbids it
  kNotFound,         // unknown session, process or file
  kConflict,         // id already used, patch context mismatch, expected hash differs
  kLimitExceeded,    // too many sessions/processes, output or message too large
  kUnsupported,      // the host cannot enforce what the policy needs
  kSandboxFailed,    // the sandbox could not be built or its worker died
  kCancelled,        // the caller cancelled the operation
  kInternal,         // a bug or an unexpected OS failure
};

const char* ErrorKindName(ErrorKind kind);

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string detail;
};

inline Error MakeError(ErrorKind kind, std::string detail) { return Error{kind, std::move(detail)}; }
// An OS failure: "what: strerror(err)".
Error ErrnoError(ErrorKind kind, const std::string& what, int err);

// Result<T> holds either a T or an Error. Deliberately small: ok(), value(), error(), and
// implicit construction from either side.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}       // NOLINT(google-explicit-constructor)
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Status is a Result with no value.
struct Ok {};
using Status = Result<Ok>;
inline Status OkStatus() { return Ok{}; }

}  // namespace cordon
