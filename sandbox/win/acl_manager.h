// Grants and revokes the ACEs that confine a restricted token's writes: allow-write for the
// workspace capability SID on each writable root, deny-write for it on each protected path
// that exists. Only DACL entries are touched (never owners, groups or SACLs), only entries
// cordon recorded are ever removed, and each Apply does only the difference to the recorded
// state for that SID. The file system calls sit behind AclBackend so the bookkeeping is
// testable where DACLs are not stored (Wine) - Win32AclBackend is the real one.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"
#include "sandbox/win/acl_state.h"

namespace cordon::win {

class AclBackend {
 public:
  virtual ~AclBackend() = default;
  virtual Status AddAce(const AceRecord& ace) = 0;
  // Removes explicit (non-inherited) ACEs equal to `ace`; a missing path or ACE is success.
  virtual Status RemoveAce(const AceRecord& ace) = 0;
  // Whether the explicit ACE is present (false where DACLs are not stored, e.g. Wine).
  virtual Result<bool> HasAce(const AceRecord& ace) = 0;
};

// GetNamedSecurityInfoW / SetEntriesInAclW / SetNamedSecurityInfoW(DACL_SECURITY_INFORMATION).
std::unique_ptr<AclBackend> MakeWin32AclBackend();

// The ACEs a policy needs for `capability_sid` (empty for read-only and danger-full-access).
std::vector<AceRecord> PlanAces(const Policy& policy, const std::string& capability_sid);

// Access masks used by the plan: write/delete for allow, the same for deny, minus reading.
uint32_t AllowWriteMask();
uint32_t DenyWriteMask();

struct AclApplyReport {
  int added = 0;
  int removed = 0;
  int unchanged = 0;
  int repaired = 0;  // recorded but found missing on disk, added again
};

class AclManager {
 public:
  // state_file: %LOCALAPPDATA%\cordon\acl-state.json in production.
  AclManager(std::string state_file, AclBackend* backend);

  // Brings the recorded ACEs of `sid` to `desired` (all desired ACEs must name `sid`). Other
  // SIDs' records are untouched. Serialised across processes with a named mutex.
  Result<AclApplyReport> Apply(const std::string& sid, const std::vector<AceRecord>& desired);
  // Removes every recorded ACE (or only those of `sid` when given) and forgets them. Records
  // whose removal failed stay recorded and are reported in the error.
  Result<int> Cleanup(const std::string& sid = "");

 private:
  std::string state_file_;
  AclBackend* backend_;
};

}  // namespace cordon::win
