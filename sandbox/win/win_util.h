// Small shared helpers of the Windows backend: UTF-8 <-> UTF-16 conversion (cordon speaks
// UTF-8 everywhere above sandbox/win), Win32 errors as cordon Errors, and Wine detection
// (tests of enforcement skip under Wine because Wine accepts but does not enforce them).
#pragma once

#include <windows.h>

#include <string>

#include "sandbox/status.h"

namespace cordon::win {

std::wstring Utf8ToWide(const std::string& text);
std::string WideToUtf8(const std::wstring& text);

// "what: <system message> (error N)".
Error WinError(ErrorKind kind, const std::string& what, DWORD err = ::GetLastError());

// True when running under Wine (ntdll exports wine_get_version). Wine implements process,
// pipe and Job plumbing but not token, ACL or Job-limit enforcement.
bool RunningUnderWine();

// ASCII case folding, enough for comparing canonical paths on NTFS for the characters that
// matter to policy decisions; non-ASCII is compared as is (documented gap).
std::string AsciiLower(std::string text);

}  // namespace cordon::win
