#include "sandbox/win/command_line.h"

#include <windows.h>

#include <algorithm>
#include <map>

#include "sandbox/win/win_util.h"

namespace cordon::win {

std::wstring QuoteArgument(const std::wstring& arg) {
  if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) return arg;
  std::wstring out = L"\"";
  size_t backslashes = 0;
  for (wchar_t c : arg) {
    if (c == L'\\') {
      ++backslashes;
      continue;
    }
    if (c == L'"') {
      out.append(backslashes * 2 + 1, L'\\');
    } else {
      out.append(backslashes, L'\\');
    }
    backslashes = 0;
    out += c;
  }
  out.append(backslashes * 2, L'\\');
  out += L'"';
  return out;
}

std::wstring BuildCommandLine(const std::vector<std::string>& argv) {
  std::wstring out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (i != 0) out += L' ';
    out += QuoteArgument(Utf8ToWide(argv[i]));
  }
  return out;
}

namespace {

struct CaseInsensitiveLess {
  bool operator()(const std::wstring& a, const std::wstring& b) const {
    return ::CompareStringOrdinal(a.c_str(), static_cast<int>(a.size()), b.c_str(),
                                  static_cast<int>(b.size()), TRUE) == CSTR_LESS_THAN;
  }
};

}  // namespace

std::wstring BuildEnvironmentBlock(const std::vector<std::string>& entries) {
  std::map<std::wstring, std::wstring, CaseInsensitiveLess> env;
  for (const auto& entry : entries) {
    auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::wstring name = Utf8ToWide(entry.substr(0, eq));
    env.erase(name);
    env.emplace(name, Utf8ToWide(entry.substr(eq + 1)));
  }
  std::wstring block;
  for (const auto& [name, value] : env) {
    block += name;
    block += L'=';
    block += value;
    block += L'\0';
  }
  if (block.empty()) block += L'\0';
  block += L'\0';
  return block;
}

}  // namespace cordon::win
