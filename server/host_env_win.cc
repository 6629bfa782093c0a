#include <windows.h>

#include <cwchar>
#include <mutex>
#include <vector>

#include "sandbox/win/path_form.h"
#include "sandbox/win/win_util.h"
#include "server/host_env.h"

namespace cordon::server {

std::string PolicyPathFromHost(const std::string& host_path) {
  auto policy = win::ToPolicyPath(win::Utf8ToWide(host_path));
  return policy ? *policy : host_path;
}

bool IsDirectory(const std::string& policy_path) {
  auto host = win::FromPolicyPath(policy_path);
  if (!host) return false;
  DWORD attributes = ::GetFileAttributesW(host->c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

std::string HomeDirectory() {
  wchar_t buf[MAX_PATH * 2];
  DWORD n = ::GetEnvironmentVariableW(L"USERPROFILE", buf, MAX_PATH * 2);
  if (n == 0 || n >= MAX_PATH * 2) return "";
  return PolicyPathFromHost(win::WideToUtf8(std::wstring(buf, n)));
}

std::string CurrentDirectory() {
  wchar_t buf[MAX_PATH * 2];
  DWORD n = ::GetCurrentDirectoryW(MAX_PATH * 2, buf);
  if (n == 0 || n >= MAX_PATH * 2) return "";
  return PolicyPathFromHost(win::WideToUtf8(std::wstring(buf, n)));
}

char** ServerEnvironment() {
  // Built once: the CRT's narrow environ is in the ANSI code page, not UTF-8.
  static std::vector<std::string>* strings = nullptr;
  static std::vector<char*>* pointers = nullptr;
  static std::once_flag once;
  std::call_once(once, [] {
    strings = new std::vector<std::string>();
    pointers = new std::vector<char*>();
    wchar_t* block = ::GetEnvironmentStringsW();
    for (wchar_t* p = block; p && *p != L'\0'; p += std::wcslen(p) + 1) {
      if (*p == L'=') continue;  // per-drive current directories ("=C:=C:\x")
      strings->push_back(win::WideToUtf8(p));
    }
    if (block) ::FreeEnvironmentStringsW(block);
    for (auto& s : *strings) pointers->push_back(s.data());
    pointers->push_back(nullptr);
  });
  return pointers->data();
}

std::vector<std::string> ShellCommand(const std::string& command) { return {"cmd", "/c", command}; }

}  // namespace cordon::server
