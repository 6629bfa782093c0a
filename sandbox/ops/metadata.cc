// POSIX only (see path_resolver.cc).
#ifndef _WIN32
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/path_resolver.h"
#include "sandbox/ops/sha256.h"

namespace cordon::ops {

Result<MetadataResult> GetMetadata(const FsContext& ctx, const GetMetadataParams& params) {
  auto path = ResolvePath(*ctx.policy, params.path, Access::kRead);
  if (!path) return path.error();
  auto root = OpenRoot(path->root);
  if (!root) return root.error();
  // O_PATH | O_NOFOLLOW opens a final symlink itself, so it is described rather than followed;
  // every earlier component is still resolved beneath the root by the kernel.
  auto fd = OpenBeneath(root->get(), path->rel, O_PATH | O_NOFOLLOW, 0, path->abs);
  if (!fd) return fd.error();
  if (auto st = CheckRealLocation(*ctx.policy, fd->get(), "", Access::kRead, path->abs); !st) return st.error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return ErrnoError(ErrorKind::kInternal, path->abs, errno);
  MetadataResult out;
  out.type = S_ISREG(st.st_mode) ? "file" : S_ISDIR(st.st_mode) ? "dir" : S_ISLNK(st.st_mode) ? "symlink" : "other";
  out.size = static_cast<uint64_t>(st.st_size);
  out.mode = st.st_mode & 07777;
  out.mtimeMs = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
  if (S_ISREG(st.st_mode) && out.size <= ctx.limits.max_hash_bytes) {
    // An O_PATH fd cannot be read: reopen for reading and hash only if it is the same inode.
    auto rfd = OpenBeneath(root->get(), path->rel, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, 0, path->abs);
    struct stat rst {};
    if (rfd && ::fstat(rfd->get(), &rst) == 0 && rst.st_ino == st.st_ino && rst.st_dev == st.st_dev) {
      Sha256 hash;
      std::string buf(1 << 20, '\0');
      for (;;) {
        if (ctx.Cancelled()) return MakeError(ErrorKind::kCancelled, "fs/getMetadata cancelled");
        ssize_t n = ::read(rfd->get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        hash.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
      }
      out.sha256 = hash.HexDigest();
    }
  }
  return out;
}

}  // namespace cordon::ops
#endif  // _WIN32
