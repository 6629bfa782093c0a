// Windows side of ops/fs_primitives.h. Windows has no openat, so every object is opened by its
// full path and then judged by where the opened handle really is: GetFinalPathNameByHandleW,
// checked against the policy (scope, read-deny, protected, writable roots, unresolved links)
// before anything is read or written through it. Entries of a held-open directory are opened
// by "<final path of the directory>\<name>" with FILE_FLAG_OPEN_REPARSE_POINT and must come out
// exactly there. Writes go to a temp file beside the target, then a rename over it (never
// written through). The remaining window (an ancestor swapped between the check and a later
// call) is confined on real Windows by the restricted token the operation impersonates and the
// workspace ACLs; Wine enforces neither.
#include <windows.h>
#include <bcrypt.h>

#include <algorithm>
#include <atomic>

#include "sandbox/ops/fs_primitives.h"
#include "sandbox/win/path_guard.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/win_util.h"

namespace cordon::ops {
namespace {

using win::AsciiLower;
using win::PathWithinFolded;

HANDLE H(const OsHandle& h) { return reinterpret_cast<HANDLE>(h.get()); }
OsHandle Own(HANDLE h) { return OsHandle(h == INVALID_HANDLE_VALUE ? OsHandle::kInvalid : reinterpret_cast<intptr_t>(h)); }

constexpr DWORD kShareAll = FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE;

std::vector<std::string> ScopeOf(const Policy& policy, Access access) {
  std::vector<std::string> scope = policy.writable_roots();
  if (access == Access::kRead)
    for (const auto& r : policy.workspace_roots()) scope.push_back(r);
  return scope;
}

bool AnyWithin(const std::vector<std::string>& roots, const std::string& path) {
  return std::any_of(roots.begin(), roots.end(), [&](const std::string& r) { return PathWithinFolded(path, r); });
}

// The longest root of `access`'s scope holding `path`, or "".
std::string RootOf(const Policy& policy, const std::string& path, Access access) {
  std::string best;
  for (const auto& r : ScopeOf(policy, access))
    if (PathWithinFolded(path, r) && r.size() > best.size()) best = r;
  return best;
}

// The policy decision on a canonical (final) path.
Status CheckCanonical(const Policy& policy, const std::string& real, Access access, const std::string& display,
                      bool allow_last_link) {
  const std::string root = RootOf(policy, real, access);
  const char* scope = access == Access::kRead ? "readable" : "writable";
  if (root.empty())
    return MakeError(ErrorKind::kPolicyDenied, display + " is really " + real + ", outside the " + scope + " roots");
  if (AnyWithin(policy.read_deny(), real))
    return MakeError(ErrorKind::kPolicyDenied, display + " is really " + real + ", which is read-denied");
  if (access == Access::kWrite && AnyWithin(policy.protected_paths(), real))
    return MakeError(ErrorKind::kPolicyDenied, display + " is really " + real + ", which is protected");
  return win::CheckNoLinksBelow(real, root, allow_last_link);
}

Error OpenError(DWORD err, const std::string& display) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
      return MakeError(ErrorKind::kNotFound, display + " does not exist");
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
      return win::WinError(ErrorKind::kPolicyDenied, display, err);
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
      return win::WinError(ErrorKind::kConflict, display + " is in use", err);
    default:
      return win::WinError(ErrorKind::kInternal, display, err);
  }
}

Error WriteErr(DWORD err, const std::string& what) {
  switch (err) {
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
    case ERROR_FILE_TOO_LARGE:
      return win::WinError(ErrorKind::kLimitExceeded, what, err);
    case ERROR_ACCESS_DENIED:
    case ERROR_WRITE_PROTECT:
      return win::WinError(ErrorKind::kPolicyDenied, what, err);
    case ERROR_PATH_NOT_FOUND:
      return MakeError(ErrorKind::kConflict, what + ": the directory changed while it was being written");
    default:
      return win::WinError(ErrorKind::kInternal, what, err);
  }
}

Result<std::wstring> Wide(const std::string& policy_path) { return win::FromPolicyPath(policy_path); }

// Opens the object at `policy_path`; kNotFound when missing.
Result<OsHandle> OpenAt(const std::string& policy_path, DWORD access, DWORD flags, const std::string& display,
                        DWORD disposition = OPEN_EXISTING, DWORD share = kShareAll) {
  auto wide = Wide(policy_path);
  if (!wide) return wide.error();
  HANDLE h = ::CreateFileW(wide->c_str(), access, share, nullptr, disposition, flags, nullptr);
  if (h == INVALID_HANDLE_VALUE) return OpenError(::GetLastError(), display);
  return Own(h);
}

std::string ChildOf(const std::string& dir, const std::string& name) { return dir + "/" + name; }

// An entry opened inside a held directory must really be that entry: same directory, same name.
Status CheckIsEntry(const OsHandle& h, const std::string& expected, const std::string& display) {
  auto real = win::FinalPolicyPath(H(h));
  if (!real) return real.error();
  if (AsciiLower(*real) != AsciiLower(expected))
    return MakeError(ErrorKind::kConflict, display + " changed while it was being used (it is now " + *real + ")");
  return OkStatus();
}

Result<std::string> DirPath(const OsHandle& dir) {
  auto real = win::FinalPolicyPath(H(dir));
  if (!real) return real.error();
  return *real;
}

int64_t FileTimeMs(const FILETIME& ft) {
  uint64_t t = (static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime;
  return (static_cast<int64_t>(t) - 116444736000000000LL) / 10000;
}

EntryInfo Describe(DWORD attrs, DWORD reparse_tag, uint64_t size, const FILETIME& mtime, uint64_t dev, uint64_t ino) {
  EntryInfo out;
  const bool link = (attrs & FILE_ATTRIBUTE_REPARSE_POINT) && IsReparseTagNameSurrogate(reparse_tag);
  out.type = link ? EntryType::kSymlink : (attrs & FILE_ATTRIBUTE_DIRECTORY) ? EntryType::kDir
             : (attrs & FILE_ATTRIBUTE_DEVICE) ? EntryType::kOther : EntryType::kFile;
  out.size = out.type == EntryType::kFile ? size : 0;
  out.mode = out.type == EntryType::kDir ? 0755 : (attrs & FILE_ATTRIBUTE_READONLY) ? 0444 : 0644;
  out.mtime_ms = FileTimeMs(mtime);
  out.dev = dev;
  out.ino = ino;
  return out;
}

Result<std::string> ReadAllFrom(const OsHandle& h, uint64_t max_bytes, const std::string& display) {
  std::string out;
  char buf[65536];
  for (;;) {
    auto n = ReadSome(h, buf, sizeof(buf), display);
    if (!n) return n.error();
    if (*n == 0) return out;
    if (out.size() + *n > max_bytes)
      return MakeError(ErrorKind::kLimitExceeded, display + " is larger than " + std::to_string(max_bytes) + " bytes");
    out.append(buf, *n);
  }
}

}  // namespace

void OsHandle::reset() {
  if (h_ != kInvalid && h_ != 0) ::CloseHandle(reinterpret_cast<HANDLE>(h_));
  h_ = kInvalid;
}

Result<ResolvedPath> ResolvePath(const Policy& policy, const std::string& request, Access access) {
  if (request.empty()) return MakeError(ErrorKind::kInvalidArgument, "the path is empty");
  if (request.find('\0') != std::string::npos)
    return MakeError(ErrorKind::kInvalidArgument, "the path contains a NUL byte");
  if (policy.workspace_roots().empty())
    return MakeError(ErrorKind::kPolicyDenied, "the session has no workspace root");
  // Spelling checks and canonicalisation through the handle of the longest existing prefix.
  auto r = win::ResolveForPolicy(policy, request,
                                 access == Access::kWrite ? win::PathAccess::kWrite : win::PathAccess::kRead);
  if (!r) return r.error();
  ResolvedPath out;
  out.abs = r->policy_path;
  out.root = RootOf(policy, out.abs, access);
  if (out.root.empty()) {
    std::string roots;
    for (const auto& s : ScopeOf(policy, access)) roots += (roots.empty() ? "" : ", ") + s;
    return MakeError(ErrorKind::kPolicyDenied, out.abs + " is outside the " +
                                                   (access == Access::kRead ? "readable" : "writable") + " roots (" +
                                                   (roots.empty() ? "none" : roots) + ")");
  }
  if (out.abs.size() > out.root.size()) out.rel = out.abs.substr(out.root == "/" ? 1 : out.root.size() + 1);
  return out;
}

Result<OsHandle> OpenResolved(const Policy& policy, const ResolvedPath& path, OpenMode mode) {
  DWORD access = GENERIC_READ;
  DWORD flags = FILE_FLAG_BACKUP_SEMANTICS;
  if (mode == OpenMode::kReadNoFollow || mode == OpenMode::kEntry) flags |= FILE_FLAG_OPEN_REPARSE_POINT;
  if (mode == OpenMode::kDirectory) access = FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
  if (mode == OpenMode::kEntry) access = FILE_READ_ATTRIBUTES;
  auto h = OpenAt(path.abs, access, flags, path.abs);
  if (!h) return h.error();
  auto real = win::FinalPolicyPath(H(*h));
  if (!real) return real.error();
  if (auto st = CheckCanonical(policy, *real, Access::kRead, path.abs, mode == OpenMode::kEntry); !st)
    return st.error();
  if (mode == OpenMode::kDirectory || mode == OpenMode::kReadNoFollow) {
    auto info = StatHandle(*h, path.abs);
    if (!info) return info.error();
    if (mode == OpenMode::kDirectory && info->type != EntryType::kDir)
      return MakeError(ErrorKind::kInvalidArgument, path.abs + " is not a directory");
    if (mode == OpenMode::kReadNoFollow && info->type == EntryType::kSymlink)
      return MakeError(ErrorKind::kPolicyDenied, path.abs + " is a link, which is not followed here");
  }
  return h;
}

Result<EntryInfo> StatHandle(const OsHandle& h, const std::string& display) {
  BY_HANDLE_FILE_INFORMATION fi{};
  if (!::GetFileInformationByHandle(H(h), &fi)) return win::WinError(ErrorKind::kInternal, display);
  DWORD tag = 0;
  if (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
    FILE_ATTRIBUTE_TAG_INFO t{};
    // A reparse point we cannot classify is reported as a link (it is then never followed).
    tag = ::GetFileInformationByHandleEx(H(h), FileAttributeTagInfo, &t, sizeof(t)) ? t.ReparseTag
                                                                                   : IO_REPARSE_TAG_SYMLINK;
  }
  if (::GetFileType(H(h)) != FILE_TYPE_DISK) fi.dwFileAttributes |= FILE_ATTRIBUTE_DEVICE;
  return Describe(fi.dwFileAttributes, tag, (static_cast<uint64_t>(fi.nFileSizeHigh) << 32) | fi.nFileSizeLow,
                  fi.ftLastWriteTime, fi.dwVolumeSerialNumber,
                  (static_cast<uint64_t>(fi.nFileIndexHigh) << 32) | fi.nFileIndexLow);
}

Result<size_t> ReadSome(const OsHandle& h, char* buf, size_t n, const std::string& display) {
  DWORD got = 0;
  if (!::ReadFile(H(h), buf, static_cast<DWORD>(std::min<size_t>(n, 1u << 30)), &got, nullptr)) {
    DWORD err = ::GetLastError();
    if (err == ERROR_HANDLE_EOF) return size_t{0};
    return win::WinError(ErrorKind::kInternal, "reading " + display, err);
  }
  return static_cast<size_t>(got);
}

Status Rewind(const OsHandle& h, const std::string& display) {
  LARGE_INTEGER zero{};
  if (!::SetFilePointerEx(H(h), zero, nullptr, FILE_BEGIN)) return win::WinError(ErrorKind::kInternal, display);
  return OkStatus();
}

Result<std::vector<ListedEntry>> ListDirectory(const OsHandle& dir, const std::string& display) {
  std::vector<ListedEntry> out;
  BY_HANDLE_FILE_INFORMATION dfi{};
  const uint64_t dev = ::GetFileInformationByHandle(H(dir), &dfi) ? dfi.dwVolumeSerialNumber : 0;
  alignas(8) static thread_local char buf[64 * 1024];
  FILE_INFO_BY_HANDLE_CLASS cls = FileIdBothDirectoryRestartInfo;
  for (;;) {
    if (!::GetFileInformationByHandleEx(H(dir), cls, buf, sizeof(buf))) {
      DWORD err = ::GetLastError();
      if (err == ERROR_NO_MORE_FILES) break;
      return win::WinError(ErrorKind::kInternal, "listing " + display, err);
    }
    cls = FileIdBothDirectoryInfo;
    for (size_t off = 0;;) {
      auto* e = reinterpret_cast<FILE_ID_BOTH_DIR_INFO*>(buf + off);
      std::wstring wname(e->FileName, e->FileNameLength / sizeof(wchar_t));
      if (wname != L"." && wname != L"..") {
        // For a reparse point, EaSize holds its tag.
        out.push_back(ListedEntry{win::WideToUtf8(wname),
                                  Describe(e->FileAttributes, e->EaSize, static_cast<uint64_t>(e->EndOfFile.QuadPart),
                                           FILETIME{e->LastWriteTime.LowPart, static_cast<DWORD>(e->LastWriteTime.HighPart)},
                                           dev, static_cast<uint64_t>(e->FileId.QuadPart))});
      }
      if (e->NextEntryOffset == 0) break;
      off += e->NextEntryOffset;
    }
  }
  return out;
}

Result<OsHandle> OpenSubdirectory(const Policy& policy, const OsHandle& dir, const std::string& name,
                                  const std::string& abs) {
  auto dir_path = DirPath(dir);
  if (!dir_path) return dir_path.error();
  const std::string expected = ChildOf(*dir_path, name);
  auto sub = OpenAt(expected, FILE_LIST_DIRECTORY | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, abs);
  if (!sub) return sub.error();
  auto info = StatHandle(*sub, abs);
  if (!info) return info.error();
  if (info->type != EntryType::kDir) return MakeError(ErrorKind::kNotFound, abs + " is not a directory any more");
  if (auto st = CheckIsEntry(*sub, expected, abs); !st) return st.error();
  if (auto st = CheckCanonical(policy, expected, Access::kRead, abs, false); !st) return st.error();
  return sub;
}

Result<ParentDir> OpenParent(const Policy& policy, const ResolvedPath& path, bool create_parents,
                             std::vector<CreatedDir>* created) {
  std::vector<std::string> parts;
  for (size_t i = 0; i < path.rel.size();) {
    size_t j = path.rel.find('/', i);
    if (j == std::string::npos) j = path.rel.size();
    if (j > i) parts.push_back(path.rel.substr(i, j - i));
    i = j + 1;
  }
  if (parts.empty()) return MakeError(ErrorKind::kInvalidArgument, path.abs + " is a root directory, not a file");
  const DWORD kDirAccess = FILE_LIST_DIRECTORY | FILE_TRAVERSE | FILE_READ_ATTRIBUTES | SYNCHRONIZE;
  const DWORD kDirFlags = FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT;
  auto cur = OpenAt(path.root, kDirAccess, FILE_FLAG_BACKUP_SEMANTICS, "root " + path.root);
  if (!cur) return cur.error();
  std::string cur_path = path.root;
  for (size_t k = 0; k + 1 < parts.size(); ++k) {
    auto real = DirPath(*cur);
    if (!real) return real.error();
    const std::string child = ChildOf(*real, parts[k]);
    const std::string display = ChildOf(cur_path, parts[k]);
    auto next = OpenAt(child, kDirAccess, kDirFlags, display);
    if (!next && next.error().kind == ErrorKind::kNotFound && create_parents) {
      // Created by the final path of the directory just checked, and opened again below.
      if (auto st = CheckCanonical(policy, child, Access::kWrite, display, false); !st) return st.error();
      auto wide = Wide(child);
      if (!wide) return wide.error();
      if (::CreateDirectoryW(wide->c_str(), nullptr)) {
        if (created) {
          HANDLE dup = nullptr;
          if (::DuplicateHandle(::GetCurrentProcess(), H(*cur), ::GetCurrentProcess(), &dup, 0, FALSE,
                                DUPLICATE_SAME_ACCESS))
            created->push_back(CreatedDir{Own(dup), parts[k]});
        }
      } else if (::GetLastError() != ERROR_ALREADY_EXISTS) {
        return WriteErr(::GetLastError(), "creating " + display);
      }
      next = OpenAt(child, kDirAccess, kDirFlags, display);
    }
    if (!next) {
      if (next.error().kind == ErrorKind::kNotFound)
        return MakeError(ErrorKind::kNotFound, "the parent directory of " + path.abs + " does not exist");
      return next.error();
    }
    auto info = StatHandle(*next, display);
    if (!info) return info.error();
    if (info->type != EntryType::kDir)
      return MakeError(info->type == EntryType::kSymlink ? ErrorKind::kPolicyDenied : ErrorKind::kNotFound,
                       display + " is not a directory (links are not followed when writing)");
    if (auto st = CheckIsEntry(*next, child, display); !st) return st.error();
    cur = std::move(next);
    cur_path = display;
  }
  ParentDir out;
  out.name = parts.back();
  auto real = DirPath(*cur);
  if (!real) return real.error();
  if (auto st = CheckWritableEntry(policy, *real, out.name, path.abs); !st) return st.error();
  out.dir = std::move(cur.value());
  return out;
}

std::string RealPathOf(const OsHandle& dir) {
  auto real = DirPath(dir);
  return real ? *real : std::string();
}

Status CheckWritableEntry(const Policy& policy, const std::string& real_dir, const std::string& leaf,
                          const std::string& display) {
  // Unlike /proc on Linux, the final path is always available here: unknown means refused.
  if (real_dir.empty()) return MakeError(ErrorKind::kPolicyDenied, display + ": where its directory is is unknown");
  return CheckCanonical(policy, ChildOf(real_dir, leaf), Access::kWrite, display, true);
}

Result<std::optional<EntryInfo>> StatEntry(const OsHandle& dir, const std::string& name, const std::string& display) {
  auto dir_path = DirPath(dir);
  if (!dir_path) return dir_path.error();
  const std::string expected = ChildOf(*dir_path, name);
  auto h = OpenAt(expected, FILE_READ_ATTRIBUTES, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, display);
  if (!h) {
    if (h.error().kind == ErrorKind::kNotFound) return std::optional<EntryInfo>();
    return h.error();
  }
  if (auto st = CheckIsEntry(*h, expected, display); !st) return st.error();
  auto info = StatHandle(*h, display);
  if (!info) return info.error();
  return std::optional<EntryInfo>(*info);
}

Result<std::string> ReadEntry(const OsHandle& dir, const std::string& name, uint64_t max_bytes,
                              const std::string& display) {
  auto dir_path = DirPath(dir);
  if (!dir_path) return dir_path.error();
  const std::string expected = ChildOf(*dir_path, name);
  auto h = OpenAt(expected, GENERIC_READ, FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, display);
  if (!h) return h.error();
  auto info = StatHandle(*h, display);
  if (!info) return info.error();
  if (info->type == EntryType::kSymlink)
    return MakeError(ErrorKind::kInvalidArgument, display + " is a symlink; change its target instead");
  if (info->type != EntryType::kFile) return MakeError(ErrorKind::kInvalidArgument, display + " is not a regular file");
  if (auto st = CheckIsEntry(*h, expected, display); !st) return st.error();
  return ReadAllFrom(*h, max_bytes, display);
}

std::string TempName(const char* suffix) {
  static std::atomic<uint64_t> counter{0};
  uint64_t r[2] = {0, 0};
  if (!BCRYPT_SUCCESS(::BCryptGenRandom(nullptr, reinterpret_cast<PUCHAR>(r), sizeof(r),
                                        BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
    r[0] = (static_cast<uint64_t>(::GetCurrentProcessId()) << 32) ^ ::GetTickCount64();
  r[1] ^= counter.fetch_add(1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = ".cordon-";
  for (uint64_t v : r)
    for (int i = 0; i < 8; ++i) name += kHex[(v >> (i * 4)) & 15];
  name += '.';
  name += suffix;
  return name;
}

Result<std::string> CreateTempFile(const OsHandle& dir, std::string_view content, uint32_t /*mode*/,
                                   bool /*exact_mode*/, const std::string& display) {
  auto dir_path = DirPath(dir);
  if (!dir_path) return dir_path.error();
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string name = TempName("tmp");
    const std::string full = ChildOf(*dir_path, name);
    auto wide = Wide(full);
    if (!wide) return wide.error();
    HANDLE raw = ::CreateFileW(wide->c_str(), GENERIC_WRITE | DELETE, 0, nullptr, CREATE_NEW,
                               FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (raw == INVALID_HANDLE_VALUE) {
      DWORD err = ::GetLastError();
      if (err == ERROR_FILE_EXISTS || err == ERROR_ALREADY_EXISTS) continue;
      return WriteErr(err, "creating a temp file for " + display);
    }
    OsHandle h = Own(raw);
    auto fail = [&](Error e) -> Error {
      h.reset();
      ::DeleteFileW(wide->c_str());
      return e;
    };
    if (auto st = CheckIsEntry(h, full, display); !st) return fail(st.error());
    for (size_t done = 0; done < content.size();) {
      DWORD n = 0;
      DWORD want = static_cast<DWORD>(std::min<size_t>(content.size() - done, 1u << 30));
      if (!::WriteFile(H(h), content.data() + done, want, &n, nullptr))
        return fail(WriteErr(::GetLastError(), "writing " + display));
      done += n;
    }
    return name;
  }
  return MakeError(ErrorKind::kInternal, "could not pick a unique temp name for " + display);
}

}  // namespace cordon::ops
