// POSIX side of fs_primitives.h: every open goes through openat2 beneath the root fd
// (path_resolver_posix.cc) and every write is an *at() call on a held directory fd.
#ifndef _WIN32
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/ops/file_io.h"
#include "sandbox/ops/fs_primitives.h"
#include "sandbox/ops/path_resolver.h"

namespace cordon::ops {
namespace {

int Fd(const OsHandle& h) { return static_cast<int>(h.get()); }

EntryInfo InfoOf(const struct stat& st) {
  EntryInfo out;
  out.type = S_ISREG(st.st_mode) ? EntryType::kFile
             : S_ISDIR(st.st_mode) ? EntryType::kDir
             : S_ISLNK(st.st_mode) ? EntryType::kSymlink
                                   : EntryType::kOther;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mode = st.st_mode & 07777;
  out.mtime_ms = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  out.dev = static_cast<uint64_t>(st.st_dev);
  out.ino = static_cast<uint64_t>(st.st_ino);
  return out;
}

}  // namespace

void OsHandle::reset() {
  if (h_ >= 0) ::close(static_cast<int>(h_));
  h_ = kInvalid;
}

Result<OsHandle> OpenResolved(const Policy& policy, const ResolvedPath& path, OpenMode mode) {
  auto root = OpenRoot(path.root);
  if (!root) return root.error();
  int flags = 0;
  switch (mode) {
    // O_NONBLOCK: opening a FIFO must not hang the worker; non-regular files are refused later.
    case OpenMode::kRead: flags = O_RDONLY | O_NONBLOCK | O_NOCTTY; break;
    case OpenMode::kReadNoFollow: flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY; break;
    case OpenMode::kDirectory: flags = O_PATH | O_DIRECTORY; break;
    // O_PATH | O_NOFOLLOW opens a final symlink itself, so it is described rather than followed;
    // every earlier component is still resolved beneath the root by the kernel.
    case OpenMode::kEntry: flags = O_PATH | O_NOFOLLOW; break;
  }
  auto fd = OpenBeneath(root->get(), path.rel, flags, 0, path.abs);
  if (!fd) {
    if (mode == OpenMode::kDirectory && fd.error().kind == ErrorKind::kNotFound) {
      auto any = OpenBeneath(root->get(), path.rel, O_PATH, 0, path.abs);
      if (any) return MakeError(ErrorKind::kInvalidArgument, path.abs + " is not a directory");
    }
    return fd.error();
  }
  if (auto st = CheckRealLocation(policy, fd->get(), "", Access::kRead, path.abs); !st) return st.error();
  return OsHandle(fd->release());
}

Result<EntryInfo> StatHandle(const OsHandle& h, const std::string& display) {
  struct stat st {};
  if (::fstat(Fd(h), &st) != 0) return ErrnoError(ErrorKind::kInternal, display, errno);
  return InfoOf(st);
}

Result<size_t> ReadSome(const OsHandle& h, char* buf, size_t n, const std::string& display) {
  for (;;) {
    ssize_t r = ::read(Fd(h), buf, n);
    if (r >= 0) return static_cast<size_t>(r);
    if (errno != EINTR) return ErrnoError(ErrorKind::kInternal, "reading " + display, errno);
  }
}

Status Rewind(const OsHandle& h, const std::string& display) {
  if (::lseek(Fd(h), 0, SEEK_SET) != 0) return ErrnoError(ErrorKind::kInternal, display, errno);
  return OkStatus();
}

Result<std::vector<ListedEntry>> ListDirectory(const OsHandle& dir_h, const std::string& display) {
  UniqueFd fd(::openat(Fd(dir_h), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError(ErrorKind::kInternal, "opening " + display, errno);
  DIR* dir = ::fdopendir(fd.get());
  if (!dir) return ErrnoError(ErrorKind::kInternal, "listing " + display, errno);
  fd.release();  // owned by `dir` now
  std::vector<ListedEntry> out;
  while (struct dirent* de = ::readdir(dir)) {
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // raced away
    out.push_back(ListedEntry{std::move(name), InfoOf(st)});
  }
  ::closedir(dir);
  return out;
}

Result<OsHandle> OpenSubdirectory(const Policy& /*policy*/, const OsHandle& dir, const std::string& name,
                                  const std::string& abs) {
  // O_NOFOLLOW relative to a directory that was itself opened beneath the root: a symlink is
  // listed but never entered, so the walk cannot leave the directory it started in.
  UniqueFd sub(::openat(Fd(dir), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub) return ErrnoError(ErrorKind::kNotFound, abs, errno);
  return OsHandle(sub.release());
}

std::string RealPathOf(const OsHandle& dir) { return FdRealPath(Fd(dir)); }

Status CheckWritableEntry(const Policy& policy, const std::string& real_dir, const std::string& leaf,
                          const std::string& display) {
  return CheckRealPath(policy, real_dir, leaf, Access::kWrite, display);
}

Result<std::optional<EntryInfo>> StatEntry(const OsHandle& dir, const std::string& name, const std::string& display) {
  struct stat st {};
  if (::fstatat(Fd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return std::optional<EntryInfo>(InfoOf(st));
  if (errno == ENOENT) return std::optional<EntryInfo>();
  return ErrnoError(ErrorKind::kInternal, display, errno);
}

Result<std::string> ReadEntry(const OsHandle& dir, const std::string& name, uint64_t max_bytes,
                              const std::string& display) {
  return ReadEntryAt(Fd(dir), name, max_bytes, display);
}

Result<std::string> CreateTempFile(const OsHandle& dir, std::string_view content, uint32_t mode, bool exact_mode,
                                   const std::string& display) {
  return CreateTempFileAt(Fd(dir), content, static_cast<mode_t>(mode), exact_mode, display);
}

Status RenameEntry(const OsHandle& dir_h, const std::string& from, const std::string& to, RenameMode mode,
                   const std::string& what) {
  const int dir = Fd(dir_h);
  int rc = 0;
  switch (mode) {
    case RenameMode::kReplace: rc = ::renameat(dir, from.c_str(), dir, to.c_str()); break;
    case RenameMode::kNoReplace: rc = ::renameat2(dir, from.c_str(), dir, to.c_str(), RENAME_NOREPLACE); break;
    case RenameMode::kExchange: rc = ::renameat2(dir, from.c_str(), dir, to.c_str(), RENAME_EXCHANGE); break;
  }
  if (rc == 0) return OkStatus();
  const int err = errno;
  if (err == ENOENT) return MakeError(ErrorKind::kNotFound, what + ": the entry is gone");
  if (err == EEXIST && mode == RenameMode::kNoReplace) return MakeError(ErrorKind::kConflict, what + ": the name exists");
  if ((err == EINVAL || err == ENOSYS) && mode == RenameMode::kExchange)
    return MakeError(ErrorKind::kUnsupported, what + ": no atomic exchange on this filesystem");
  return WriteError(err, what);
}

void RemoveEntry(const OsHandle& dir, const std::string& name) { ::unlinkat(Fd(dir), name.c_str(), 0); }

void RemoveCreatedDirs(std::vector<CreatedDir>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it)
    ::unlinkat(Fd(it->parent), it->name.c_str(), AT_REMOVEDIR);
  created.clear();
}

// Each directory is opened beneath the root again, so a swapped-in symlink is not followed.
void PruneEmptyParents(const Policy& /*policy*/, const ResolvedPath& path) {
  auto root = OpenRoot(path.root);
  if (!root) return;
  std::string rel = path.rel;
  for (;;) {
    size_t slash = rel.rfind('/');
    if (slash == std::string::npos) return;
    rel.resize(slash);  // the directory that held the entry
    size_t up = rel.rfind('/');
    std::string parent = up == std::string::npos ? "" : rel.substr(0, up);
    std::string name = up == std::string::npos ? rel : rel.substr(up + 1);
    auto fd = OpenBeneath(root->get(), parent, O_PATH | O_DIRECTORY, 0, path.abs);
    if (!fd || ::unlinkat(fd->get(), name.c_str(), AT_REMOVEDIR) != 0) return;
  }
}

}  // namespace cordon::ops
#endif  // _WIN32
