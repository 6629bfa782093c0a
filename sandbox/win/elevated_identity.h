// Who elevated-mode commands run as: the offline sandbox user when the policy cuts the network,
// the online one otherwise, with the password `cordon windows-setup` stored through DPAPI.
// Every failure here names `cordon windows-setup`: elevated mode never falls back to running
// commands as the developer.
#pragma once

#include <string>

#include "sandbox/status.h"
#include "sandbox/win/sandbox_users.h"

namespace cordon::win {

struct ElevatedIdentity {
  SandboxCredential credential;
  std::string user_sid;
  bool offline = true;
};

// credentials_file empty: DefaultCredentialsFile(). kUnsupported when setup has not been run
// (no file, unreadable, not decryptable by this user, or the account has no SID).
Result<ElevatedIdentity> LoadElevatedIdentity(const std::string& credentials_file, bool offline);

// The SID of a local account or group by name.
Result<std::string> LocalAccountSid(const std::string& name);

// Whether the offline user's firewall rules are in place (see FirewallRulesPresent).
bool OfflineNetworkBlocked(const std::string& offline_user_sid);

}  // namespace cordon::win
