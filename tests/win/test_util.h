// Shared helpers of the Windows tests: where the probe helper and the built programs live, an
// environment for commands, scratch directories, draining a command's output, and the Wine
// skip used by every enforcement test (Wine accepts restricted tokens, file ACLs and job
// limits but does not enforce them).
#pragma once

#include <gtest/gtest.h>
#include <windows.h>

#include <string>
#include <utility>
#include <vector>

#include "sandbox/session.h"
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

// A path the build recorded (CORDON_*_BUILD_PATH): a Unix path under Wine, reachable
// through drive Z:; a Windows path as it is.
inline std::wstring FromBuildPath(const char* build_path) {
  std::wstring built = Utf8ToWide(build_path);
  if (!built.empty() && built[0] == L'/') {
    for (auto& c : built) c = c == L'/' ? L'\\' : c;
    built = L"Z:" + built;
  }
  return built;
}

// Where a built program is: the variable `override_env` names wins (none when nullptr); else
// `name` next to the tests; else the build tree's path.
inline std::wstring FindBuiltExe(const wchar_t* override_env, const wchar_t* name, const char* build_path) {
  if (override_env != nullptr) {
    wchar_t env[MAX_PATH];
    DWORD n = ::GetEnvironmentVariableW(override_env, env, MAX_PATH);
    if (n > 0 && n < MAX_PATH) return std::wstring(env, n);
  }
  std::wstring local = ExeDir() + L"\\" + name;
  if (::GetFileAttributesW(local.c_str()) != INVALID_FILE_ATTRIBUTES) return local;
  return FromBuildPath(build_path);
}

// Reads a command's output until eof: {stdout (or the pty's output), stderr}.
inline std::pair<std::string, std::string> DrainOutput(SandboxProcess& p) {
  std::string out, err;
  for (;;) {
    auto chunk = p.ReadOutput(1 << 16);
    if (!chunk.ok() || chunk->eof) break;
    (chunk->stream == OutputStream::kStderr ? err : out) += chunk->data;
  }
  return {out, err};
}

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
