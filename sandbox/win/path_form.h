// How Windows paths appear inside the platform-neutral Policy. Policy paths are absolute and
// '/'-separated, so a Windows path is written with its drive as the first component:
//   C:\Users\me\ws      <->  /C:/Users/me/ws
//   \\server\share\dir  <->  /UNC/server/share/dir
// Conversion is purely lexical; canonicalisation and refusal of special forms is path_guard's job.
#pragma once

#include <string>

#include "sandbox/status.h"

namespace cordon::win {

// Accepts "C:\x", "C:/x", "\\?\C:\x" (as returned by GetFinalPathNameByHandleW) and
// "\\?\UNC\s\sh\x" / "\\s\sh\x". The drive letter is upper-cased.
Result<std::string> ToPolicyPath(const std::wstring& windows_path);
// The inverse; fails with kInvalidArgument for anything that is not a drive or UNC form.
Result<std::wstring> FromPolicyPath(const std::string& policy_path);

}  // namespace cordon::win
