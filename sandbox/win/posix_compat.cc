#include "sandbox/win/posix_compat.h"

#include <windows.h>

#include <cerrno>
#include <climits>
#include <cstring>

#include "sandbox/win/path_form.h"
#include "sandbox/win/scoped_handle.h"

#undef realpath
#undef stat

namespace {

int ErrnoFromWin(DWORD err) {
  switch (err) {
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_NAME:
    case ERROR_BAD_NETPATH:
      return ENOENT;
    case ERROR_ACCESS_DENIED:
      return EACCES;
    default:
      return EIO;
  }
}

// Reparse points are followed (no FILE_FLAG_OPEN_REPARSE_POINT), so the final path
// is the real object (junction targets included), which is what realpath promises.
cordon::win::ScopedHandle OpenForQuery(const char* path, DWORD* err) {
  auto wide = cordon::win::FromPolicyPath(path);
  if (!wide) {
    *err = ERROR_INVALID_NAME;
    return {};
  }
  cordon::win::ScopedHandle h(::CreateFileW(wide->c_str(), FILE_READ_ATTRIBUTES,
                                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                                            nullptr, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS,
                                            nullptr));
  if (!h) *err = ::GetLastError();
  return h;
}

}  // namespace

char* cordon_compat_realpath(const char* path, char* resolved) {
  DWORD err = 0;
  auto h = OpenForQuery(path, &err);
  if (!h) {
    errno = ErrnoFromWin(err);
    return nullptr;
  }
  wchar_t buf[32768];
  DWORD n = ::GetFinalPathNameByHandleW(h.get(), buf, 32768, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (n == 0 || n >= 32768) {
    errno = EIO;
    return nullptr;
  }
  auto policy = cordon::win::ToPolicyPath(std::wstring(buf, n));
  if (!policy) {
    errno = EINVAL;
    return nullptr;
  }
  if (policy->size() + 1 > PATH_MAX) {
    errno = ENAMETOOLONG;
    return nullptr;
  }
  std::memcpy(resolved, policy->c_str(), policy->size() + 1);
  return resolved;
}

int cordon_compat_stat(const char* path, struct cordon_compat_stat* out) {
  DWORD err = 0;
  auto h = OpenForQuery(path, &err);
  if (!h) {
    errno = ErrnoFromWin(err);
    return -1;
  }
  BY_HANDLE_FILE_INFORMATION info{};
  if (!::GetFileInformationByHandle(h.get(), &info)) {
    errno = EIO;
    return -1;
  }
  out->st_mode = (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? S_IFDIR : S_IFREG;
  out->st_size = (static_cast<long long>(info.nFileSizeHigh) << 32) | info.nFileSizeLow;
  return 0;
}
