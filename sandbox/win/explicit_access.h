// One EXPLICIT_ACCESS_W entry with a SID as its trustee: the form SetEntriesInAclW takes for
// every DACL cordon builds or edits (workspace ACEs, the alternate desktop's, a restricted
// token's default DACL), all of which name their trustees by SID.
#pragma once

#include <windows.h>
// after windows.h
#include <aclapi.h>

#include "sandbox/win/sid.h"

namespace cordon::win {

// `sid` must outlive the entry (the entry points at its bytes).
inline EXPLICIT_ACCESS_W SidAccess(const OwnedSid& sid, DWORD mask, ACCESS_MODE mode = GRANT_ACCESS,
                                   DWORD inheritance = NO_INHERITANCE) {
  EXPLICIT_ACCESS_W ea{};
  ea.grfAccessPermissions = mask;
  ea.grfAccessMode = mode;
  ea.grfInheritance = inheritance;
  ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
  ea.Trustee.TrusteeType = TRUSTEE_IS_UNKNOWN;
  ea.Trustee.ptstrName = static_cast<LPWSTR>(sid.get());
  return ea;
}

}  // namespace cordon::win
