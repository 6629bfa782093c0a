#include "sandbox/win/restricted_token.h"

#include <memory>

#include "sandbox/win/explicit_access.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

Status SetDefaultDacl(HANDLE token, const std::vector<OwnedSid>& sids) {
  std::vector<EXPLICIT_ACCESS_W> entries;
  for (const auto& sid : sids) entries.push_back(SidAccess(sid, GENERIC_ALL));
  ScopedLocal<PACL> acl;
  DWORD err = ::SetEntriesInAclW(static_cast<ULONG>(entries.size()), entries.data(), nullptr,
                                 acl.receive());
  if (err != ERROR_SUCCESS) return WinError(ErrorKind::kSandboxFailed, "SetEntriesInAclW(default DACL)", err);
  TOKEN_DEFAULT_DACL dacl{acl.get()};
  if (!::SetTokenInformation(token, TokenDefaultDacl, &dacl, sizeof(dacl)))
    return WinError(ErrorKind::kSandboxFailed, "SetTokenInformation(TokenDefaultDacl)");
  return OkStatus();
}

}  // namespace

Result<RestrictedToken> CreateSandboxToken(const OwnedSid& capability, HANDLE base) {
  if (capability.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty capability SID");
  ScopedHandle own;
  if (base == nullptr) {
    if (!::OpenProcessToken(::GetCurrentProcess(),
                            TOKEN_DUPLICATE | TOKEN_QUERY | TOKEN_ASSIGN_PRIMARY | TOKEN_ADJUST_DEFAULT |
                                TOKEN_ADJUST_SESSIONID | TOKEN_ADJUST_PRIVILEGES,
                            own.receive()))
      return WinError(ErrorKind::kSandboxFailed, "OpenProcessToken");
    base = own.get();
  }
  RestrictedToken out;
  std::vector<OwnedSid> restricting{capability};
  auto logon = LogonSid(base);
  if (logon.ok()) {
    restricting.push_back(*logon);
    out.has_logon_sid = true;
  }
  restricting.push_back(WorldSid());
  std::vector<SID_AND_ATTRIBUTES> list;
  for (const auto& sid : restricting) {
    list.push_back(SID_AND_ATTRIBUTES{sid.get(), 0});
    out.restricting_sids.push_back(sid.ToString());
  }
  // DISABLE_MAX_PRIVILEGE leaves only SeChangeNotifyPrivilege; LUA_TOKEN turns an elevated
  // administrator token into its filtered form; WRITE_RESTRICTED applies the restricting SIDs
  // to write access only, so reading the toolchain and the workspace keeps working.
  if (!::CreateRestrictedToken(base, DISABLE_MAX_PRIVILEGE | LUA_TOKEN | WRITE_RESTRICTED, 0, nullptr, 0,
                               nullptr, static_cast<DWORD>(list.size()), list.data(),
                               out.token.receive()))
    return WinError(ErrorKind::kSandboxFailed, "CreateRestrictedToken");
  std::vector<OwnedSid> dacl_sids = restricting;
  dacl_sids.pop_back();  // not Everyone
  if (auto user = TokenUserSid(base); user.ok()) dacl_sids.push_back(*user);
  BYTE system[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof(system);
  if (::CreateWellKnownSid(WinLocalSystemSid, nullptr, system, &n)) dacl_sids.emplace_back(system);
  if (auto st = SetDefaultDacl(out.token.get(), dacl_sids); !st) return st.error();
  return out;
}

Result<TokenFacts> InspectToken(HANDLE token) {
  TokenFacts facts;
  facts.restricted = ::IsTokenRestricted(token) != FALSE;
  DWORD n = 0;
  ::GetTokenInformation(token, TokenRestrictedSids, nullptr, 0, &n);
  if (n == 0) return WinError(ErrorKind::kUnsupported, "GetTokenInformation(TokenRestrictedSids)");
  auto buf = std::make_unique<BYTE[]>(n);
  if (!::GetTokenInformation(token, TokenRestrictedSids, buf.get(), n, &n))
    return WinError(ErrorKind::kUnsupported, "GetTokenInformation(TokenRestrictedSids)");
  auto* groups = reinterpret_cast<TOKEN_GROUPS*>(buf.get());
  for (DWORD i = 0; i < groups->GroupCount; ++i)
    facts.restricting_sids.push_back(OwnedSid(groups->Groups[i].Sid).ToString());
  n = 0;
  ::GetTokenInformation(token, TokenPrivileges, nullptr, 0, &n);
  if (n != 0) {
    auto pbuf = std::make_unique<BYTE[]>(n);
    if (::GetTokenInformation(token, TokenPrivileges, pbuf.get(), n, &n)) {
      auto* privs = reinterpret_cast<TOKEN_PRIVILEGES*>(pbuf.get());
      for (DWORD i = 0; i < privs->PrivilegeCount; ++i)
        if (privs->Privileges[i].Attributes & SE_PRIVILEGE_ENABLED) ++facts.enabled_privileges;
    }
  }
  return facts;
}

}  // namespace cordon::win
