// POSIX primitives of fs_primitives.h (see file_io.h).
#ifndef _WIN32
#include "sandbox/ops/file_io.h"
#include "sandbox/ops/fs_primitives.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

namespace cordon::ops {

Result<std::string> ReadAll(int fd, uint64_t max_bytes, const std::string& display) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return ErrnoError(ErrorKind::kInternal, display, errno);
  if (S_ISDIR(st.st_mode)) return MakeError(ErrorKind::kInvalidArgument, display + " is a directory");
  if (!S_ISREG(st.st_mode)) return MakeError(ErrorKind::kInvalidArgument, display + " is not a regular file");
  if (static_cast<uint64_t>(st.st_size) > max_bytes)
    return MakeError(ErrorKind::kLimitExceeded, display + " is larger than " + std::to_string(max_bytes) + " bytes");
  std::string out;
  out.resize(static_cast<size_t>(st.st_size) + 1);
  size_t have = 0;
  for (;;) {
    if (have == out.size()) {
      if (out.size() > max_bytes)
        return MakeError(ErrorKind::kLimitExceeded, display + " grew beyond " + std::to_string(max_bytes) + " bytes");
      out.resize(out.size() * 2);
    }
    ssize_t n = ::read(fd, out.data() + have, out.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(ErrorKind::kInternal, "reading " + display, errno);
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  out.resize(have);
  return out;
}

Result<std::string> ReadEntryAt(int dir_fd, const std::string& name, uint64_t max_bytes,
                              const std::string& display) {
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd) {
    int err = errno;
    if (err == ENOENT) return MakeError(ErrorKind::kNotFound, display + " does not exist");
    if (err == ELOOP)
      return MakeError(ErrorKind::kInvalidArgument, display + " is a symlink; change its target instead");
    if (err == EACCES || err == EPERM) return ErrnoError(ErrorKind::kPolicyDenied, display, err);
    return ErrnoError(ErrorKind::kInternal, display, err);
  }
  return ReadAll(fd.get(), max_bytes, display);
}

std::string TempName(const char* suffix) {
  static std::atomic<uint64_t> counter{0};
  uint64_t r[2] = {0, 0};
  if (::getrandom(r, sizeof(r), GRND_NONBLOCK) != static_cast<ssize_t>(sizeof(r))) {
    r[0] = static_cast<uint64_t>(::getpid()) << 32 ^ static_cast<uint64_t>(::time(nullptr));
  }
  r[1] ^= counter.fetch_add(1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string name = ".cordon-";
  for (uint64_t v : r)
    for (int i = 0; i < 8; ++i) name += kHex[(v >> (i * 4)) & 15];
  name += '.';
  name += suffix;
  return name;
}

Error WriteError(int err, const std::string& what) {
  switch (err) {
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return ErrnoError(ErrorKind::kLimitExceeded, what, err);
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrnoError(ErrorKind::kPolicyDenied, what, err);
    case ENOENT:
    case ENOTDIR:
      // The directory we hold was removed or replaced meanwhile.
      return MakeError(ErrorKind::kConflict, what + ": the directory changed while it was being written");
    default:
      return ErrnoError(ErrorKind::kInternal, what, err);
  }
}

Result<std::string> CreateTempFileAt(int dir_fd, std::string_view content, mode_t mode, bool exact_mode,
                                   const std::string& display) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string name = TempName("tmp");
    UniqueFd fd(::openat(dir_fd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                         exact_mode ? 0600 : mode));
    if (!fd) {
      if (errno == EEXIST) continue;
      return WriteError(errno, "creating a temp file for " + display);
    }
    auto fail = [&](int err, const char* what) -> Error {
      ::unlinkat(dir_fd, name.c_str(), 0);
      return WriteError(err, std::string(what) + " " + display);
    };
    size_t done = 0;
    while (done < content.size()) {
      ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return fail(errno, "writing");
      }
      done += static_cast<size_t>(n);
    }
    if (exact_mode && ::fchmod(fd.get(), mode) != 0) return fail(errno, "setting the mode of");
    return name;
  }
  return MakeError(ErrorKind::kInternal, "could not pick a unique temp name for " + display);
}

}  // namespace cordon::ops
#endif  // _WIN32
