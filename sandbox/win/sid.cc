#include "sandbox/win/sid.h"

#include <sddl.h>

#include <cstring>
#include <memory>

#include "sandbox/ops/sha256.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

OwnedSid::OwnedSid(PSID sid) {
  if (sid != nullptr && ::IsValidSid(sid)) {
    DWORD n = ::GetLengthSid(sid);
    bytes_.assign(static_cast<BYTE*>(sid), static_cast<BYTE*>(sid) + n);
  }
}

std::string OwnedSid::ToString() const {
  if (empty()) return {};
  ScopedLocal<wchar_t*> text;
  if (!::ConvertSidToStringSidW(get(), text.receive())) return {};
  return WideToUtf8(text.get());
}

Result<OwnedSid> SidFromString(const std::string& text) {
  ScopedLocal<PSID> sid;
  if (!::ConvertStringSidToSidW(Utf8ToWide(text).c_str(), sid.receive()))
    return WinError(ErrorKind::kInvalidArgument, "bad SID \"" + text + "\"");
  return OwnedSid(sid.get());
}

std::string WorkspaceCapabilitySidString(const std::string& canonical_policy_path) {
  std::string digest = ops::Sha256Hex("cordon-workspace-capability-v1\n" +
                                      AsciiLower(canonical_policy_path));
  std::string out = "S-1-5-21";
  for (int i = 0; i < 4; ++i) {
    unsigned long part = std::stoul(digest.substr(static_cast<size_t>(i) * 8, 8), nullptr, 16);
    out += "-" + std::to_string(part);
  }
  return out;
}

Result<OwnedSid> WorkspaceCapabilitySid(const std::string& canonical_policy_path) {
  return SidFromString(WorkspaceCapabilitySidString(canonical_policy_path));
}

OwnedSid WorldSid() {
  BYTE buf[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof(buf);
  if (!::CreateWellKnownSid(WinWorldSid, nullptr, buf, &n)) return {};
  return OwnedSid(buf);
}

namespace {

Result<std::unique_ptr<BYTE[]>> QueryToken(HANDLE token, TOKEN_INFORMATION_CLASS cls,
                                           const char* what) {
  DWORD n = 0;
  ::GetTokenInformation(token, cls, nullptr, 0, &n);
  if (n == 0) return WinError(ErrorKind::kInternal, what);
  auto buf = std::make_unique<BYTE[]>(n);
  if (!::GetTokenInformation(token, cls, buf.get(), n, &n)) return WinError(ErrorKind::kInternal, what);
  return buf;
}

}  // namespace

Result<OwnedSid> LogonSid(HANDLE token) {
  auto buf = QueryToken(token, TokenGroups, "GetTokenInformation(TokenGroups)");
  if (!buf) return buf.error();
  auto* groups = reinterpret_cast<TOKEN_GROUPS*>(buf->get());
  for (DWORD i = 0; i < groups->GroupCount; ++i) {
    if ((groups->Groups[i].Attributes & SE_GROUP_LOGON_ID) == SE_GROUP_LOGON_ID)
      return OwnedSid(groups->Groups[i].Sid);
  }
  return MakeError(ErrorKind::kNotFound, "token has no logon SID");
}

Result<OwnedSid> TokenUserSid(HANDLE token) {
  auto buf = QueryToken(token, TokenUser, "GetTokenInformation(TokenUser)");
  if (!buf) return buf.error();
  return OwnedSid(reinterpret_cast<TOKEN_USER*>(buf->get())->User.Sid);
}

}  // namespace cordon::win
