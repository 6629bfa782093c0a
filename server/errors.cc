#include "server/errors.h"

namespace cordon::server {

protocol::RpcError ToRpcError(const Error& error) {
  using protocol::RpcError;
  namespace code = protocol::code;
  switch (error.kind) {
    case ErrorKind::kInvalidArgument: return RpcError::InvalidParams(error.detail);
    case ErrorKind::kPolicyDenied: return RpcError::Cordon(code::kPolicyDenied, "policy_denied", error.detail);
    case ErrorKind::kNotFound: return RpcError::Cordon(code::kNotFound, "not_found", error.detail);
    case ErrorKind::kConflict: return RpcError::Cordon(code::kConflict, "conflict", error.detail);
    case ErrorKind::kLimitExceeded: return RpcError::Cordon(code::kLimitExceeded, "limit_exceeded", error.detail);
    case ErrorKind::kUnsupported: return RpcError::Cordon(code::kUnsupported, "unsupported", error.detail);
    case ErrorKind::kSandboxFailed: return RpcError::Cordon(code::kSandboxFailed, "sandbox_failed", error.detail);
    case ErrorKind::kCancelled: return RpcError{code::kRequestCancelled, "request cancelled: " + error.detail, nullptr};
    case ErrorKind::kInternal: return RpcError::Internal(error.detail);
  }
  return RpcError::Internal(error.detail);
}

}  // namespace cordon::server
