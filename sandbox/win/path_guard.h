// Every path a request names is decided here before the worker touches it. Windows has many
// spellings for one object, so the decision is made on the canonical path of the opened
// object (GetFinalPathNameByHandleW), never on the text the client sent:
//  - refused outright (kPolicyDenied): "\\?\", "\\.\" and "\??\" prefixes, device names
//    (CON, NUL, COM1, LPT1, CONIN$ ... with or without extension), components ending in a dot
//    or space, alternate data streams ("file:stream"), ".." components, wildcard and
//    control characters;
//  - canonicalised: the longest existing prefix is opened (reparse points, junctions and 8.3
//    short names are resolved by the kernel) and the not-yet-existing rest appended;
//  - decided case-insensitively against the Policy: writes need a writable root and must miss
//    protected and read-denied paths; reads must miss read-denied paths.
// The check is advisory next to the kernel: a path swapped between check and use is still
// confined by the restricted token and the ACLs on real Windows (not under Wine).
#pragma once

#include <string>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon::win {

enum class PathAccess { kRead, kWrite };

struct ResolvedPath {
  std::string policy_path;   // canonical, "/C:/ws/src/a.cc"
  std::wstring windows_path; // the same, "C:\ws\src\a.cc", to open
  bool exists = false;
};

// Lexical screening only (no file system access). `path` is Windows ("C:\x", "C:/x") or
// policy form ("/C:/x"); relative paths are refused here (callers join them first).
Status CheckPathSpelling(const std::string& path);

// Full check: spelling, canonicalisation, policy decision. A relative `path` is taken
// relative to the first workspace root.
Result<ResolvedPath> ResolveForPolicy(const Policy& policy, const std::string& path, PathAccess access);

// Case-insensitive PathIsWithin on policy-form paths.
bool PathWithinFolded(const std::string& path, const std::string& root);

// Where an open handle really is: GetFinalPathNameByHandleW in policy form. Every file
// operation decides on this, after the open and before any read or write.
Result<std::string> FinalPolicyPath(void* handle);

// Denied when a component of `path` below `root` (the last one too unless `allow_last_link`)
// is a link the system left unresolved in a final path (see IsLink in path_guard.cc).
Status CheckNoLinksBelow(const std::string& path, const std::string& root, bool allow_last_link);

}  // namespace cordon::win
