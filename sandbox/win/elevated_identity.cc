#include "sandbox/win/elevated_identity.h"

#include <windows.h>

#include <fstream>
#include <sstream>

#include "sandbox/win/credentials.h"
#include "sandbox/win/firewall.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/win_util.h"
#include "sandbox/win/windows_admin.h"

namespace cordon::win {

namespace {

Error NotSetUp(const std::string& why) {
  return MakeError(ErrorKind::kUnsupported,
                   "windows sandbox = \"elevated\" needs the sandbox users: " + why +
                       ". Run `cordon windows-setup` once as an administrator (or set [windows] sandbox = "
                       "\"unelevated\"); commands are not run unelevated instead");
}

}  // namespace

Result<std::string> LocalAccountSid(const std::string& name) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof(sid);
  wchar_t domain[256];
  DWORD domain_size = 256;
  SID_NAME_USE use;
  if (!::LookupAccountNameW(nullptr, Utf8ToWide(name).c_str(), sid, &sid_size, domain, &domain_size, &use))
    return WinError(ErrorKind::kNotFound, "account " + name + " has no SID");
  return OwnedSid(sid).ToString();
}

Result<ElevatedIdentity> LoadElevatedIdentity(const std::string& credentials_file, bool offline) {
  std::string file = credentials_file.empty() ? DefaultCredentialsFile() : credentials_file;
  std::ifstream in(Utf8ToWide(file).c_str(), std::ios::binary);
  if (!in) return NotSetUp("no stored credentials at " + file);
  std::stringstream text;
  text << in.rdbuf();
  auto creds = CredentialsFromJson(text.str());
  if (!creds) return NotSetUp("stored credentials at " + file + " are unusable (" + creds.error().detail + ")");
  ElevatedIdentity id;
  id.offline = offline;
  id.credential = offline ? creds->offline : creds->online;
  if (id.credential.username.empty() || id.credential.password.empty())
    return NotSetUp("stored credentials at " + file + " lack the " + (offline ? "offline" : "online") + " user");
  auto sid = LocalAccountSid(id.credential.username);
  if (!sid) return NotSetUp("the account " + id.credential.username + " does not exist");
  id.user_sid = *sid;
  return id;
}

bool OfflineNetworkBlocked(const std::string& offline_user_sid) {
  return FirewallRulesPresent(OfflineUserRules(offline_user_sid));
}

}  // namespace cordon::win
