#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/fs_primitives.h"
#include "sandbox/ops/sha256.h"

namespace cordon::ops {

Result<MetadataResult> GetMetadata(const FsContext& ctx, const GetMetadataParams& params) {
  auto path = ResolvePath(*ctx.policy, params.path, Access::kRead);
  if (!path) return path.error();
  // The entry itself: a final symlink is described rather than followed.
  auto entry = OpenResolved(*ctx.policy, *path, OpenMode::kEntry);
  if (!entry) return entry.error();
  auto st = StatHandle(*entry, path->abs);
  if (!st) return st.error();
  MetadataResult out;
  out.type = EntryTypeName(st->type);
  out.size = st->size;
  out.mode = st->mode;
  out.mtimeMs = st->mtime_ms;
  if (st->type == EntryType::kFile && out.size <= ctx.limits.max_hash_bytes) {
    // The entry handle is not opened for reading: reopen and hash only if it is the same file.
    auto rfd = OpenResolved(*ctx.policy, *path, OpenMode::kReadNoFollow);
    auto rst = rfd ? StatHandle(*rfd, path->abs) : Result<EntryInfo>(rfd.error());
    if (rst && rst->ino == st->ino && rst->dev == st->dev) {
      Sha256 hash;
      std::string buf(1 << 20, '\0');
      for (;;) {
        if (ctx.Cancelled()) return MakeError(ErrorKind::kCancelled, "fs/getMetadata cancelled");
        auto n = ReadSome(*rfd, buf.data(), buf.size(), path->abs);
        if (!n || *n == 0) break;
        hash.Update(std::string_view(buf.data(), *n));
      }
      out.sha256 = hash.HexDigest();
    }
  }
  return out;
}

}  // namespace cordon::ops
