#include "sandbox/win/impersonation.h"

#include <cstdlib>

#include "sandbox/win/win_util.h"

namespace cordon::win {

Result<ScopedImpersonation> ScopedImpersonation::Begin(HANDLE token) {
  if (!token) return ScopedImpersonation(false);
  if (!::ImpersonateLoggedOnUser(token))
    return WinError(ErrorKind::kSandboxFailed, "impersonating the session's restricted token");
  return ScopedImpersonation(true);
}

ScopedImpersonation::~ScopedImpersonation() {
  // A pool thread left impersonating would run the next request with the wrong identity.
  if (active_ && !::RevertToSelf()) std::abort();
}

}  // namespace cordon::win
