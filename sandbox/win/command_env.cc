#include "sandbox/win/command_env.h"

#include <windows.h>

#include <algorithm>

#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

bool HasName(const std::vector<std::string>& env, const std::string& name) {
  std::string lower = AsciiLower(name) + "=";
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return AsciiLower(e.substr(0, lower.size())) == lower; });
}

}  // namespace

std::vector<std::string> WithWindowsEssentials(std::vector<std::string> env) {
  static const char* kEssential[] = {"SystemRoot", "windir", "SystemDrive", "COMSPEC", "PATHEXT", "TEMP",
                                     "TMP", "USERPROFILE", "PROGRAMDATA", "PROGRAMFILES", "NUMBER_OF_PROCESSORS",
                                     "PROCESSOR_ARCHITECTURE", "OS"};
  for (const char* name : kEssential) {
    if (HasName(env, name)) continue;
    wchar_t buf[32768];
    DWORD n = ::GetEnvironmentVariableW(Utf8ToWide(name).c_str(), buf, 32768);
    if (n > 0 && n < 32768) env.push_back(std::string(name) + "=" + WideToUtf8(std::wstring(buf, n)));
  }
  // A Unix-style PATH (the neutral default) is useless here: replace it with the server's.
  auto path = std::find_if(env.begin(), env.end(), [](const std::string& e) { return AsciiLower(e.substr(0, 5)) == "path="; });
  bool unix_path = path != env.end() && path->find(';') == std::string::npos && path->find(":/") != std::string::npos;
  if (path == env.end() || unix_path) {
    wchar_t buf[32768];
    DWORD n = ::GetEnvironmentVariableW(L"PATH", buf, 32768);
    std::string value = (n > 0 && n < 32768) ? WideToUtf8(std::wstring(buf, n)) : "C:\\Windows\\system32;C:\\Windows";
    if (path != env.end()) env.erase(path);
    env.push_back("PATH=" + value);
  }
  return env;
}

std::vector<std::string> CommandEnvironment(std::vector<std::string> request_env,
                                            const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env = WithWindowsEssentials(std::move(request_env));
  for (const auto& [name, value] : extra) {
    if (!HasName(env, name)) env.push_back(name + "=" + value);
  }
  return env;
}

}  // namespace cordon::win
