#include "sandbox/status.h"

#include <cstring>

namespace cordon {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidArgument: return "invalid_argument";
    case ErrorKind::kPolicyDenied: return "policy_denied";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kLimitExceeded: return "limit_exceeded";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kSandboxFailed: return "sandbox_failed";
    case ErrorKind::kCancelled: return "cancelled";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

Error ErrnoError(ErrorKind kind, const std::string& what, int err) {
  return Error{kind, what + ": " + std::strerror(err)};
}

}  // namespace cordon
