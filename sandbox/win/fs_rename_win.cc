// Windows side of the commit steps of ops/fs_primitives.h: renames inside a held directory,
// removals of names the operation created, and pruning of directories a deletion emptied.
// A rename is done on a handle to the source (opened with FILE_FLAG_OPEN_REPARSE_POINT and
// checked to be that entry of that directory) with FileRenameInfo, so a link named as the source
// is moved itself and never followed; the target name is replaced atomically or refused.
// Windows has no atomic exchange: kExchange answers kUnsupported and patch/apply uses its
// move-aside commit with rollback instead.
#include <windows.h>

#include <algorithm>
#include <vector>

#include "sandbox/ops/fs_primitives.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/path_guard.h"
#include "sandbox/win/win_util.h"

namespace cordon::ops {
namespace {

HANDLE H(const OsHandle& h) { return reinterpret_cast<HANDLE>(h.get()); }
constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

Result<std::wstring> WideChild(const OsHandle& dir, const std::string& name, std::string* policy_path = nullptr) {
  auto real = win::FinalPolicyPath(H(dir));
  if (!real) return real.error();
  std::string child = *real + "/" + name;
  if (policy_path) *policy_path = child;
  return win::FromPolicyPath(child);
}

Error RenameError(DWORD err, RenameMode mode, const std::string& what) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
      return MakeError(ErrorKind::kNotFound, what + ": the entry is gone");
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
      if (mode == RenameMode::kNoReplace) return MakeError(ErrorKind::kConflict, what + ": the name exists");
      return win::WinError(ErrorKind::kConflict, what, err);
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
      return win::WinError(ErrorKind::kLimitExceeded, what, err);
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
      return win::WinError(ErrorKind::kPolicyDenied, what, err);
    case ERROR_SHARING_VIOLATION:
      return win::WinError(ErrorKind::kConflict, what + " (the file is in use)", err);
    default:
      return win::WinError(ErrorKind::kInternal, what, err);
  }
}

}  // namespace

Status RenameEntry(const OsHandle& dir, const std::string& from, const std::string& to, RenameMode mode,
                   const std::string& what) {
  if (mode == RenameMode::kExchange)
    return MakeError(ErrorKind::kUnsupported, what + ": Windows has no atomic exchange of two names");
  std::string from_policy;
  auto from_wide = WideChild(dir, from, &from_policy);
  if (!from_wide) return from_wide.error();
  auto to_wide = WideChild(dir, to);
  if (!to_wide) return to_wide.error();
  HANDLE raw = ::CreateFileW(from_wide->c_str(), DELETE | SYNCHRONIZE | FILE_READ_ATTRIBUTES, kShareAll, nullptr,
                             OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (raw == INVALID_HANDLE_VALUE) return RenameError(::GetLastError(), mode, what);
  OsHandle h(reinterpret_cast<intptr_t>(raw));
  auto real = win::FinalPolicyPath(raw);
  if (!real) return real.error();
  if (win::AsciiLower(*real) != win::AsciiLower(from_policy))
    return MakeError(ErrorKind::kConflict, what + ": the entry changed while it was being renamed");

  const size_t name_bytes = to_wide->size() * sizeof(wchar_t);
  std::vector<char> buf(sizeof(FILE_RENAME_INFO) + name_bytes + sizeof(wchar_t), 0);
  auto* info = reinterpret_cast<FILE_RENAME_INFO*>(buf.data());
  info->ReplaceIfExists = mode == RenameMode::kReplace ? TRUE : FALSE;
  info->RootDirectory = nullptr;
  info->FileNameLength = static_cast<DWORD>(name_bytes);
  std::copy(to_wide->begin(), to_wide->end(), info->FileName);
  if (::SetFileInformationByHandle(raw, FileRenameInfo, info, static_cast<DWORD>(buf.size()))) return OkStatus();
  DWORD err = ::GetLastError();
  if (err != ERROR_INVALID_PARAMETER && err != ERROR_NOT_SUPPORTED && err != ERROR_CALL_NOT_IMPLEMENTED &&
      err != ERROR_INVALID_FUNCTION)
    return RenameError(err, mode, what);
  // A file system without FileRenameInfo on handles: the same rename by name.
  h.reset();
  if (::MoveFileExW(from_wide->c_str(), to_wide->c_str(), mode == RenameMode::kReplace ? MOVEFILE_REPLACE_EXISTING : 0))
    return OkStatus();
  return RenameError(::GetLastError(), mode, what);
}

void RemoveEntry(const OsHandle& dir, const std::string& name) {
  auto wide = WideChild(dir, name);
  if (wide) ::DeleteFileW(wide->c_str());
}

void RemoveCreatedDirs(std::vector<CreatedDir>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    auto wide = WideChild(it->parent, it->name);
    if (wide) ::RemoveDirectoryW(wide->c_str());
  }
  created.clear();
}

void PruneEmptyParents(const Policy& policy, const ResolvedPath& path) {
  std::string rel = path.rel;
  for (;;) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return;
    rel.resize(slash);  // the directory that held the entry
    const std::string dir = path.root + (path.root == "/" ? "" : "/") + rel;
    auto wide = win::FromPolicyPath(dir);
    if (!wide) return;
    // The directory itself (not a link's target) must still be where it was, and writable.
    HANDLE raw = ::CreateFileW(wide->c_str(), FILE_READ_ATTRIBUTES, kShareAll, nullptr, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (raw == INVALID_HANDLE_VALUE) return;
    OsHandle h(reinterpret_cast<intptr_t>(raw));
    BY_HANDLE_FILE_INFORMATION fi{};
    auto real = win::FinalPolicyPath(raw);
    const bool ok = ::GetFileInformationByHandle(raw, &fi) && !(fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
                    real && win::AsciiLower(*real) == win::AsciiLower(dir) &&
                    std::any_of(policy.writable_roots().begin(), policy.writable_roots().end(),
                                [&](const std::string& r) { return win::PathWithinFolded(dir, r); }) &&
                    std::none_of(policy.protected_paths().begin(), policy.protected_paths().end(),
                                 [&](const std::string& r) { return win::PathWithinFolded(dir, r); });
    h.reset();
    if (!ok || !::RemoveDirectoryW(wide->c_str())) return;
  }
}

}  // namespace cordon::ops
