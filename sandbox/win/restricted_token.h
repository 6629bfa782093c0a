// The identity sandboxed commands run with: a restricted copy of the server's token
// (CreateRestrictedToken with DISABLE_MAX_PRIVILEGE | LUA_TOKEN | WRITE_RESTRICTED). Reads are
// checked as for the user; every write must additionally be granted to one of the restricting
// SIDs: the workspace capability SID (granted on writable roots by AclManager), the logon SID
// (the session's own window station and pipes) and Everyone. Known limit, inherited from the
// design: anything Everyone may already write stays writable; the world-writable audit is not
// implemented yet.
#pragma once

#include <windows.h>

#include <string>
#include <vector>

#include "sandbox/status.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/sid.h"

namespace cordon::win {

struct RestrictedToken {
  ScopedHandle token;                      // primary token, usable with CreateProcessAsUserW
  std::vector<std::string> restricting_sids;  // in the order given to the kernel
  bool has_logon_sid = false;              // false: the base token had none (stricter, not looser)
};

// `base` defaults to the current process token. The default DACL of the new token grants the
// user, the capability SID, the logon SID and SYSTEM, so objects the command creates (pipes,
// events, files in writable roots) remain usable under WRITE_RESTRICTED.
Result<RestrictedToken> CreateSandboxToken(const OwnedSid& capability, HANDLE base = nullptr);

// What the kernel reports about a token: restricted or not, and its restricting SIDs.
// Under Wine the query of TokenRestrictedSids fails (unimplemented); kUnsupported then.
struct TokenFacts {
  bool restricted = false;
  std::vector<std::string> restricting_sids;
  size_t enabled_privileges = 0;
};
Result<TokenFacts> InspectToken(HANDLE token);

}  // namespace cordon::win
