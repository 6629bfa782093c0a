// `elevated` mode identities, created once by `cordon windows-setup` run as an administrator:
// a local group and two local users, offline (its network is cut by firewall rules scoped to
// its SID) and online. Commands then run as one of them, so the sandbox no longer shares the
// developer's identity at all. The plan (names, flags, password shape) is pure and tested;
// the NetUser*/NetLocalGroup* calls are stubs under Wine and are verified on Windows only.
#pragma once

#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon::win {

struct SandboxUserPlan {
  std::wstring group = L"CordonSandboxUsers";
  std::wstring group_comment = L"cordon sandbox accounts (managed by cordon windows-setup)";
  std::wstring offline_user = L"CordonSandboxOffline";
  std::wstring online_user = L"CordonSandboxOnline";
};

struct SandboxCredential {
  std::string username;
  std::string password;  // plaintext only in memory; stored through DPAPI (credentials.h)
};

// 24 characters from a mixed alphabet drawn with BCryptGenRandom; always contains an upper,
// a lower case letter, a digit and a symbol so password-complexity policies accept it.
Result<std::string> GeneratePassword(size_t length = 24);

// Creates the group and the user (or resets its password if it exists), adds the user to the
// group and to Users. Needs administrator rights.
Status EnsureSandboxUser(const SandboxUserPlan& plan, const std::wstring& user, const std::string& password);

// Removes both users and the group (`cordon windows-cleanup --users`). Missing ones are fine.
Status RemoveSandboxUsers(const SandboxUserPlan& plan);

}  // namespace cordon::win
