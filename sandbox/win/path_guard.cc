#include "sandbox/win/path_guard.h"

#include <windows.h>

#include <algorithm>
#include <vector>

#include "sandbox/win/path_form.h"
#include "sandbox/win/scoped_handle.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

Error Denied(const std::string& path, const std::string& why) {
  return MakeError(ErrorKind::kPolicyDenied, "path \"" + path + "\" refused: " + why);
}

bool IsDeviceName(std::string component) {
  // Windows ignores an extension and trailing spaces after a device name: "nul.txt", "COM1 ".
  component = AsciiLower(component.substr(0, component.find('.')));
  while (!component.empty() && component.back() == ' ') component.pop_back();
  static const char* kNames[] = {"con", "prn", "aux", "nul", "conin$", "conout$", "clock$"};
  for (const char* n : kNames)
    if (component == n) return true;
  if (component.size() == 4 && (component.compare(0, 3, "com") == 0 || component.compare(0, 3, "lpt") == 0)) {
    char d = component[3];
    return d >= '0' && d <= '9';
  }
  // COM¹ COM² COM³ / LPT¹..³ (superscript digits, UTF-8 C2 B9 / C2 B2 / C2 B3).
  if (component.size() == 5 && (component.compare(0, 3, "com") == 0 || component.compare(0, 3, "lpt") == 0) &&
      static_cast<unsigned char>(component[3]) == 0xC2) {
    unsigned char d = static_cast<unsigned char>(component[4]);
    return d == 0xB9 || d == 0xB2 || d == 0xB3;
  }
  return false;
}

// Splits "/C:/a/b" or "C:\a\b" into the root ("/C:" or "/UNC/srv/share") and components.
struct SplitPath {
  std::string root;
  std::vector<std::string> parts;
};

Result<SplitPath> Split(const std::string& original) {
  std::string p = original;
  std::replace(p.begin(), p.end(), '\\', '/');
  // "\\?\\", "\\.\\" and the NT "\\??\\" prefix (spelled without a trigraph).
  if (p.rfind("//?/", 0) == 0 || p.rfind("//./", 0) == 0 || p.rfind("/?" "?/", 0) == 0)
    return Denied(original, "device and verbatim prefixes (\\\\?\\, \\\\.\\, \\??\\) are not accepted");
  SplitPath out;
  size_t pos = 0;
  if (p.size() >= 2 && std::isalpha(static_cast<unsigned char>(p[0])) && p[1] == ':') {
    if (p.size() > 2 && p[2] != '/') return Denied(original, "drive-relative path");
    out.root = std::string("/") + static_cast<char>(std::toupper(static_cast<unsigned char>(p[0]))) + ":";
    pos = 2;
  } else if (p.size() >= 3 && p[0] == '/' && std::isalpha(static_cast<unsigned char>(p[1])) && p[2] == ':') {
    out.root = std::string("/") + static_cast<char>(std::toupper(static_cast<unsigned char>(p[1]))) + ":";
    pos = 3;
  } else if (p.rfind("//", 0) == 0 || p.rfind("/UNC/", 0) == 0) {
    pos = p.rfind("//", 0) == 0 ? 2 : 5;
    std::vector<std::string> head;
    while (head.size() < 2) {
      size_t next = p.find('/', pos);
      std::string part = p.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
      if (part.empty()) return Denied(original, "incomplete UNC path");
      head.push_back(part);
      if (next == std::string::npos) {
        pos = p.size();
        break;
      }
      pos = next;
      if (head.size() < 2) ++pos;
    }
    if (head.size() < 2) return Denied(original, "incomplete UNC path");
    out.root = "/UNC/" + head[0] + "/" + head[1];
  } else {
    return MakeError(ErrorKind::kInvalidArgument, "path must be absolute: \"" + original + "\"");
  }
  while (pos < p.size()) {
    while (pos < p.size() && p[pos] == '/') ++pos;
    size_t next = p.find('/', pos);
    if (next == std::string::npos) next = p.size();
    std::string part = p.substr(pos, next - pos);
    pos = next;
    if (part.empty() || part == ".") continue;
    if (part == "..") return Denied(original, "\"..\" components are not accepted");
    if (part.back() == '.' || part.back() == ' ')
      return Denied(original, "a name ending in a dot or space aliases another name");
    if (part.find(':') != std::string::npos) return Denied(original, "alternate data streams are not accepted");
    for (char c : part) {
      if (static_cast<unsigned char>(c) < 0x20 || c == '<' || c == '>' || c == '"' || c == '|' || c == '?' ||
          c == '*')
        return Denied(original, "wildcard or control character in a name");
    }
    if (IsDeviceName(part)) return Denied(original, "device names (CON, NUL, COM1, ...) are not files");
    out.parts.push_back(part);
  }
  return out;
}

std::string Join(const std::string& root, const std::vector<std::string>& parts, size_t n) {
  std::string out = root;
  for (size_t i = 0; i < n; ++i) out += "/" + parts[i];
  return out;
}

Result<std::string> FinalOf(HANDLE h) {
  std::wstring buf(32768, L'\0');
  DWORD n = ::GetFinalPathNameByHandleW(h, buf.data(), static_cast<DWORD>(buf.size()),
                                        FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (n == 0 || n >= buf.size()) return WinError(ErrorKind::kPolicyDenied, "GetFinalPathNameByHandleW");
  buf.resize(n);
  return ToPolicyPath(buf);
}

// Canonical policy path of an existing object, through its handle (reparse points followed).
Result<std::string> CanonicalOfExisting(const std::string& policy_path, bool* exists) {
  *exists = false;
  auto wide = FromPolicyPath(policy_path);
  if (!wide) return wide.error();
  ScopedHandle h(::CreateFileW(wide->c_str(), FILE_READ_ATTRIBUTES,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS, nullptr));
  if (!h) {
    DWORD err = ::GetLastError();
    if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) return std::string();
    return WinError(ErrorKind::kPolicyDenied, "cannot open \"" + policy_path + "\"", err);
  }
  auto final_path = FinalOf(h.get());
  if (final_path) *exists = true;
  return final_path;
}

// True when `policy_path` itself is a link (junction, symbolic link: a name-surrogate reparse
// point). GetFinalPathNameByHandleW resolves links on Windows, so a canonical path containing
// one means the host did not resolve it (Wine does not): refused rather than trusted.
bool IsLink(const std::string& policy_path) {
  auto wide = FromPolicyPath(policy_path);
  if (!wide) return false;
  DWORD attrs = ::GetFileAttributesW(wide->c_str());
  if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_REPARSE_POINT)) return false;
  ScopedHandle h(::CreateFileW(wide->c_str(), FILE_READ_ATTRIBUTES,
                               FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  FILE_ATTRIBUTE_TAG_INFO tag{};
  if (!h || !::GetFileInformationByHandleEx(h.get(), FileAttributeTagInfo, &tag, sizeof(tag)))
    return true;  // a reparse point we cannot classify: treat as a link (fail closed)
  return IsReparseTagNameSurrogate(tag.ReparseTag);
}

bool AnyWithin(const std::vector<std::string>& roots, const std::string& path) {
  return std::any_of(roots.begin(), roots.end(), [&](const std::string& r) { return PathWithinFolded(path, r); });
}

}  // namespace

bool PathWithinFolded(const std::string& path, const std::string& root) {
  return PathIsWithin(AsciiLower(path), AsciiLower(root));
}

Result<std::string> FinalPolicyPath(void* handle) { return FinalOf(static_cast<HANDLE>(handle)); }

Status CheckNoLinksBelow(const std::string& path, const std::string& root, bool allow_last_link) {
  auto split = Split(path);
  if (!split) return split.error();
  const size_t n_parts = split->parts.size();
  for (size_t n = 1; n <= n_parts; ++n) {
    std::string prefix = Join(split->root, split->parts, n);
    if (!PathWithinFolded(prefix, root) || AsciiLower(prefix) == AsciiLower(root)) continue;
    if (n == n_parts && allow_last_link) break;
    if (IsLink(prefix)) return Denied(path, "it goes through a link the system did not resolve");
  }
  return OkStatus();
}

Status CheckPathSpelling(const std::string& path) {
  auto split = Split(path);
  if (!split) return split.error();
  return OkStatus();
}

Result<ResolvedPath> ResolveForPolicy(const Policy& policy, const std::string& path, PathAccess access) {
  std::string absolute = path;
  bool is_absolute = (path.size() >= 2 && path[1] == ':') || (!path.empty() && (path[0] == '/' || path[0] == '\\'));
  if (!is_absolute) {
    if (policy.workspace_roots().empty()) return MakeError(ErrorKind::kInvalidArgument, "no workspace root");
    absolute = policy.workspace_roots()[0] + "/" + path;
  }
  auto split = Split(absolute);
  if (!split) return split.error();

  // Longest existing prefix, canonicalised through its handle; the rest appended as given.
  ResolvedPath out;
  std::string canonical;
  size_t existing = split->parts.size() + 1;
  for (size_t n = split->parts.size() + 1; n-- > 0;) {
    bool exists = false;
    auto c = CanonicalOfExisting(Join(split->root, split->parts, n), &exists);
    if (!c) return c.error();
    if (exists) {
      canonical = *c;
      existing = n;
      break;
    }
  }
  if (existing > split->parts.size()) return Denied(path, "no existing ancestor");
  {
    auto canon_split = Split(canonical);
    if (!canon_split) return canon_split.error();
    for (size_t n = 1; n <= canon_split->parts.size(); ++n) {
      if (IsLink(Join(canon_split->root, canon_split->parts, n)))
        return Denied(path, "it goes through a link the system did not resolve");
    }
  }
  out.exists = existing == split->parts.size();
  for (size_t i = existing; i < split->parts.size(); ++i) canonical += "/" + split->parts[i];
  out.policy_path = canonical;
  auto wide = FromPolicyPath(canonical);
  if (!wide) return wide.error();
  out.windows_path = *wide;

  if (AnyWithin(policy.read_deny(), canonical)) return Denied(path, "inside a read-denied path");
  if (access == PathAccess::kWrite) {
    if (policy.mode() == SandboxMode::kDangerFullAccess) return out;
    if (!AnyWithin(policy.writable_roots(), canonical))
      return Denied(path, "\"" + canonical + "\" is outside the writable roots");
    if (AnyWithin(policy.protected_paths(), canonical))
      return Denied(path, "\"" + canonical + "\" is protected");
  }
  return out;
}

}  // namespace cordon::win
