#include "sandbox/win/sandbox_users.h"

#include <windows.h>
// after windows.h
#include <bcrypt.h>
#include <lm.h>

#include "sandbox/win/win_util.h"

namespace cordon::win {

Result<std::string> GeneratePassword(size_t length) {
  static const char kLower[] = "abcdefghijkmnopqrstuvwxyz";
  static const char kUpper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ";
  static const char kDigit[] = "23456789";
  static const char kSymbol[] = "!#%+-.:=?@_~";
  const std::string all = std::string(kLower) + kUpper + kDigit + kSymbol;
  if (length < 8) return MakeError(ErrorKind::kInvalidArgument, "password too short");
  std::vector<unsigned char> random(length * 2);
  if (!BCRYPT_SUCCESS(::BCryptGenRandom(nullptr, random.data(), static_cast<ULONG>(random.size()),
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
    return MakeError(ErrorKind::kInternal, "BCryptGenRandom failed");
  std::string out(length, '\0');
  // The first four positions take one of each class; the rest from the full alphabet. The
  // modulo bias over 256 is below 1% per character and irrelevant at 24 characters.
  const std::string classes[4] = {kLower, kUpper, kDigit, kSymbol};
  for (size_t i = 0; i < length; ++i) {
    const std::string& set = i < 4 ? classes[i] : all;
    out[i] = set[random[i] % set.size()];
  }
  // Shuffle (Fisher-Yates with the second half of the random bytes) so classes are not positional.
  for (size_t i = length - 1; i > 0; --i) std::swap(out[i], out[random[length + i] % (i + 1)]);
  return out;
}

namespace {

Status NetStatus(NET_API_STATUS st, const std::string& what) {
  if (st == NERR_Success) return OkStatus();
  return WinError(ErrorKind::kSandboxFailed, what, st);
}

}  // namespace

Status EnsureSandboxUser(const SandboxUserPlan& plan, const std::wstring& user, const std::string& password) {
  LOCALGROUP_INFO_1 group{};
  group.lgrpi1_name = const_cast<LPWSTR>(plan.group.c_str());
  group.lgrpi1_comment = const_cast<LPWSTR>(plan.group_comment.c_str());
  NET_API_STATUS st = ::NetLocalGroupAdd(nullptr, 1, reinterpret_cast<LPBYTE>(&group), nullptr);
  if (st != NERR_Success && st != NERR_GroupExists && st != ERROR_ALIAS_EXISTS)
    return NetStatus(st, "NetLocalGroupAdd");

  std::wstring wpass = Utf8ToWide(password);
  USER_INFO_1 info{};
  info.usri1_name = const_cast<LPWSTR>(user.c_str());
  info.usri1_password = wpass.data();
  info.usri1_priv = USER_PRIV_USER;
  info.usri1_flags = UF_SCRIPT | UF_DONT_EXPIRE_PASSWD | UF_PASSWD_CANT_CHANGE;
  st = ::NetUserAdd(nullptr, 1, reinterpret_cast<LPBYTE>(&info), nullptr);
  if (st == NERR_UserExists) {
    USER_INFO_1003 reset{wpass.data()};
    st = ::NetUserSetInfo(nullptr, user.c_str(), 1003, reinterpret_cast<LPBYTE>(&reset), nullptr);
  }
  SecureZeroMemory(wpass.data(), wpass.size() * sizeof(wchar_t));
  if (auto s = NetStatus(st, "NetUserAdd"); !s) return s;

  LOCALGROUP_MEMBERS_INFO_3 member{const_cast<LPWSTR>(user.c_str())};
  st = ::NetLocalGroupAddMembers(nullptr, plan.group.c_str(), 3, reinterpret_cast<LPBYTE>(&member), 1);
  if (st != NERR_Success && st != ERROR_MEMBER_IN_ALIAS) return NetStatus(st, "NetLocalGroupAddMembers");
  return OkStatus();
}

Status RemoveSandboxUsers(const SandboxUserPlan& plan) {
  for (const auto& user : {plan.offline_user, plan.online_user}) {
    NET_API_STATUS st = ::NetUserDel(nullptr, user.c_str());
    if (st != NERR_Success && st != NERR_UserNotFound) return NetStatus(st, "NetUserDel");
  }
  NET_API_STATUS st = ::NetLocalGroupDel(nullptr, plan.group.c_str());
  if (st != NERR_Success && st != NERR_GroupNotFound && st != ERROR_NO_SUCH_ALIAS)
    return NetStatus(st, "NetLocalGroupDel");
  return OkStatus();
}

}  // namespace cordon::win
