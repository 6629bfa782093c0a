// Shared helpers of the Windows tests: where the probe helper lives, an environment for
// commands, scratch directories, and the Wine skip used by every enforcement test (Wine
// accepts restricted tokens, file ACLs and job limits but does not enforce them).
#pragma once

#include <gtest/gtest.h>
#include <windows.h>

#include <string>
#include <vector>

#include "sandbox/win/win_util.h"

namespace cordon::win::testing {

#define SKIP_UNDER_WINE()                                                                      \
  do {                                                                                         \
    if (::cordon::win::RunningUnderWine())                                                     \
      GTEST_SKIP() << "Wine (ntdll!wine_get_version) does not enforce this; runs on Windows"; \
  } while (0)

inline std::wstring ExeDir() {
  wchar_t buf[MAX_PATH];
  DWORD n = ::GetModuleFileNameW(nullptr, buf, MAX_PATH);
  std::wstring path(buf, n);
  return path.substr(0, path.find_last_of(L"\\/"));
}

inline std::string HelperPath() { return WideToUtf8(ExeDir() + L"\\win_test_helper.exe"); }

// The test process's own environment as "NAME=value" entries.
inline std::vector<std::string> CurrentEnv() {
  std::vector<std::string> out;
  wchar_t* block = ::GetEnvironmentStringsW();
  for (wchar_t* p = block; *p != L'\0'; p += wcslen(p) + 1) {
    if (*p == L'=') continue;  // per-drive cwd entries
    out.push_back(WideToUtf8(p));
  }
  ::FreeEnvironmentStringsW(block);
  return out;
}

// A fresh empty directory under %TEMP%; removed by the caller if it cares.
inline std::wstring MakeTempDir(const std::wstring& tag) {
  wchar_t tmp[MAX_PATH];
  ::GetTempPathW(MAX_PATH, tmp);
  std::wstring dir = std::wstring(tmp) + L"cordon-" + tag + L"-" + std::to_wstring(::GetCurrentProcessId()) +
                     L"-" + std::to_wstring(::GetTickCount());
  ::CreateDirectoryW(dir.c_str(), nullptr);
  return dir;
}

inline bool WriteTextFile(const std::wstring& path, const std::string& text) {
  HANDLE h = ::CreateFileW(path.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return false;
  DWORD n = 0;
  BOOL ok = ::WriteFile(h, text.data(), static_cast<DWORD>(text.size()), &n, nullptr);
  ::CloseHandle(h);
  return ok != FALSE;
}

}  // namespace cordon::win::testing
