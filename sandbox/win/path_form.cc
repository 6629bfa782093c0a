#include "sandbox/win/path_form.h"

#include <cwctype>

#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

bool IsDriveLetter(wchar_t c) { return (c >= L'A' && c <= L'Z') || (c >= L'a' && c <= L'z'); }

std::string Slashes(std::wstring rest) {
  for (auto& c : rest)
    if (c == L'\\') c = L'/';
  return WideToUtf8(rest);
}

}  // namespace

Result<std::string> ToPolicyPath(const std::wstring& windows_path) {
  std::wstring p = windows_path;
  if (p.rfind(L"\\\\?\\UNC\\", 0) == 0) {
    p = L"\\\\" + p.substr(8);
  } else if (p.rfind(L"\\\\?\\", 0) == 0) {
    p = p.substr(4);
  }
  if (p.size() >= 2 && IsDriveLetter(p[0]) && p[1] == L':' &&
      (p.size() == 2 || p[2] == L'\\' || p[2] == L'/')) {
    wchar_t drive = static_cast<wchar_t>(std::towupper(p[0]));
    std::string rest = Slashes(p.substr(2));
    while (rest.size() > 1 && rest.back() == '/') rest.pop_back();
    if (rest == "/") rest.clear();
    std::string out = "/";
    out += static_cast<char>(drive);
    out += ':';
    out.append(rest);
    return out;
  }
  if (p.size() > 2 && (p[0] == L'\\' || p[0] == L'/') && (p[1] == L'\\' || p[1] == L'/')) {
    std::string rest = Slashes(p.substr(2));
    while (!rest.empty() && rest.back() == '/') rest.pop_back();
    if (rest.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty UNC path");
    std::string out = "/UNC/";
    out.append(rest);
    return out;
  }
  return MakeError(ErrorKind::kInvalidArgument,
                   "not an absolute Windows path: \"" + WideToUtf8(windows_path) + "\"");
}

Result<std::wstring> FromPolicyPath(const std::string& policy_path) {
  if (policy_path.rfind("/UNC/", 0) == 0 && policy_path.size() > 5) {
    std::wstring rest = Utf8ToWide(policy_path.substr(5));
    for (auto& c : rest)
      if (c == L'/') c = L'\\';
    return L"\\\\" + rest;
  }
  if (policy_path.size() >= 3 && policy_path[0] == '/' && policy_path[2] == ':' &&
      IsDriveLetter(static_cast<wchar_t>(policy_path[1])) &&
      (policy_path.size() == 3 || policy_path[3] == '/')) {
    std::wstring out = Utf8ToWide(policy_path.substr(1));
    for (auto& c : out)
      if (c == L'/') c = L'\\';
    if (out.size() == 2) out += L'\\';
    return out;
  }
  return MakeError(ErrorKind::kInvalidArgument,
                   "not a Windows policy path (expected /C:/... or /UNC/...): \"" + policy_path + "\"");
}

}  // namespace cordon::win
