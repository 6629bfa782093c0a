// Runs the calling thread as the session's restricted token for the length of a scope, so a
// file operation the server performs for the session is also confined by the token and the
// workspace ACLs on real Windows (Wine accepts the token but enforces neither).
#pragma once

#include <windows.h>

#include "sandbox/status.h"

namespace cordon::win {

class ScopedImpersonation {
 public:
  // Impersonates `token` (a primary token; nullptr: no-op, e.g. danger-full-access). Failure
  // is kSandboxFailed: the operation must not run with the server's own rights instead.
  static Result<ScopedImpersonation> Begin(HANDLE token);
  ScopedImpersonation(ScopedImpersonation&& other) noexcept : active_(other.active_) { other.active_ = false; }
  ScopedImpersonation& operator=(ScopedImpersonation&&) = delete;
  ScopedImpersonation(const ScopedImpersonation&) = delete;
  ~ScopedImpersonation();  // RevertToSelf

 private:
  explicit ScopedImpersonation(bool active) : active_(active) {}
  bool active_ = false;
};

}  // namespace cordon::win
