#include "sandbox/win/windows_admin.h"

#include <windows.h>

#include <cstdlib>
#include <fstream>

#include "sandbox/win/acl_manager.h"
#include "sandbox/win/credentials.h"
#include "sandbox/win/firewall.h"
#include "sandbox/win/sandbox_users.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

std::wstring CordonDataDir() {
  wchar_t buf[MAX_PATH];
  DWORD n = ::GetEnvironmentVariableW(L"LOCALAPPDATA", buf, MAX_PATH);
  std::wstring dir = (n > 0 && n < MAX_PATH) ? std::wstring(buf, n) : L".";
  dir += L"\\cordon";
  ::CreateDirectoryW(dir.c_str(), nullptr);
  return dir;
}

bool IsAdministrator() {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof(sid);
  BOOL member = FALSE;
  if (!::CreateWellKnownSid(WinBuiltinAdministratorsSid, nullptr, sid, &n)) return false;
  return ::CheckTokenMembership(nullptr, sid, &member) && member;
}

Result<std::string> LookupUserSid(const std::wstring& user) {
  BYTE sid[SECURITY_MAX_SID_SIZE];
  DWORD sid_size = sizeof(sid);
  wchar_t domain[256];
  DWORD domain_size = 256;
  SID_NAME_USE use;
  if (!::LookupAccountNameW(nullptr, user.c_str(), sid, &sid_size, domain, &domain_size, &use))
    return WinError(ErrorKind::kSandboxFailed, "sandbox user " + WideToUtf8(user) + " has no SID");
  return OwnedSid(sid).ToString();
}

}  // namespace

std::string DefaultAclStateFile() {
  if (const char* o = std::getenv("CORDON_WIN_ACL_STATE")) return o;
  return WideToUtf8(CordonDataDir() + L"\\acl-state.json");
}

std::string DefaultCredentialsFile() { return WideToUtf8(CordonDataDir() + L"\\sandbox-users.json"); }

Result<CleanupReport> WindowsCleanup(const std::string& state_file, bool include_users) {
  CleanupReport report;
  report.acl_state_file = state_file.empty() ? DefaultAclStateFile() : state_file;
  auto backend = MakeWin32AclBackend();
  AclManager acl(report.acl_state_file, backend.get());
  auto removed = acl.Cleanup();
  if (!removed) return removed.error();
  report.aces_removed = *removed;
  if (include_users) {
    SandboxUserPlan plan;
    if (auto sid = LookupUserSid(plan.offline_user); sid.ok()) {
      if (auto st = RemoveFirewallRules(OfflineUserRules(*sid)); !st) return st.error();
    }
    if (auto st = RemoveSandboxUsers(plan); !st) return st.error();
    ::DeleteFileW(Utf8ToWide(DefaultCredentialsFile()).c_str());
    report.users_removed = true;
  }
  return report;
}

Status WindowsSetup(const std::string& credentials_file) {
  if (!IsAdministrator())
    return MakeError(ErrorKind::kUnsupported, "cordon windows-setup must run as an administrator");
  SandboxUserPlan plan;
  StoredCredentials creds;
  for (auto [user, cred] : {std::pair<std::wstring, SandboxCredential*>{plan.offline_user, &creds.offline},
                            {plan.online_user, &creds.online}}) {
    auto password = GeneratePassword();
    if (!password) return password.error();
    if (auto st = EnsureSandboxUser(plan, user, *password); !st) return st;
    *cred = SandboxCredential{WideToUtf8(user), *password};
  }
  auto offline_sid = LookupUserSid(plan.offline_user);
  if (!offline_sid) return offline_sid.error();
  if (auto st = ApplyFirewallRules(OfflineUserRules(*offline_sid)); !st) return st;
  auto json = CredentialsToJson(creds);
  if (!json) return json.error();
  std::string file = credentials_file.empty() ? DefaultCredentialsFile() : credentials_file;
  std::ofstream out(Utf8ToWide(file).c_str(), std::ios::binary | std::ios::trunc);
  out << *json;
  if (!out) return MakeError(ErrorKind::kInternal, "cannot write " + file);
  return OkStatus();
}

}  // namespace cordon::win
