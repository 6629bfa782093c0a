#include <algorithm>
#include <cctype>

#include "sandbox/base64.h"
#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/fs_primitives.h"
#include "sandbox/ops/sha256.h"

namespace cordon::ops {
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

Result<WriteFileResult> WriteFile(const FsContext& ctx, const WriteFileParams& params) {
  std::string decoded;
  const std::string* content = &params.content;
  if (params.encoding == Encoding::kBase64) {
    auto bytes = Base64Decode(params.content);
    if (!bytes) return MakeError(ErrorKind::kInvalidArgument, "content is not valid base64");
    decoded = std::move(*bytes);
    content = &decoded;
  }
  const uint64_t max_bytes = ctx.policy->limits().max_file_bytes;
  if (max_bytes != 0 && content->size() > max_bytes)
    return MakeError(ErrorKind::kLimitExceeded, "content is larger than the policy's file size limit");

  auto path = ResolvePath(*ctx.policy, params.path, Access::kWrite);
  if (!path) return path.error();
  auto parent = OpenParent(*ctx.policy, *path, params.createParents);
  if (!parent) {
    if (parent.error().kind == ErrorKind::kNotFound && !params.createParents)
      return MakeError(ErrorKind::kNotFound, parent.error().detail + " (set createParents to create it)");
    return parent.error();
  }
  const OsHandle& dir = parent->dir;
  const std::string& name = parent->name;

  auto st = StatEntry(dir, name, path->abs);
  if (!st) return st.error();
  const bool exists = st->has_value();
  const bool regular = exists && (*st)->type == EntryType::kFile;
  if (exists && (*st)->type == EntryType::kDir) return MakeError(ErrorKind::kInvalidArgument, path->abs + " is a directory");

  if (params.expectedSha256) {
    if (!regular)
      return MakeError(ErrorKind::kConflict, path->abs + " does not exist as a regular file, but expectedSha256 was given");
    auto current = ReadEntry(dir, name, ctx.policy->limits().max_file_bytes ? ctx.policy->limits().max_file_bytes : ~0ull,
                             path->abs);
    if (!current) return current.error();
    std::string have = Sha256Hex(*current);
    if (have != Lower(*params.expectedSha256))
      return MakeError(ErrorKind::kConflict, path->abs + " changed: its sha256 is " + have + ", not " +
                                                 Lower(*params.expectedSha256));
  }
  if (ctx.Cancelled()) return MakeError(ErrorKind::kCancelled, "fs/writeFile cancelled");

  // A replaced regular file keeps its permission bits (set-id bits dropped); anything else
  // (a new file, or a symlink being replaced) gets the default 0666 & ~umask.
  const bool keep_mode = regular;
  auto tmp = CreateTempFile(dir, *content, keep_mode ? ((*st)->mode & 0777) : 0666, keep_mode, path->abs);
  if (!tmp) return tmp.error();
  // The rename replaces the directory entry: an existing hardlink or symlink is swapped out, and
  // the file it pointed to (possibly outside the workspace) is never opened for writing.
  if (auto r = RenameEntry(dir, *tmp, name, RenameMode::kReplace, "replacing " + path->abs); !r) {
    RemoveEntry(dir, *tmp);
    if (r.error().kind == ErrorKind::kNotFound)
      return MakeError(ErrorKind::kConflict, "replacing " + path->abs + ": the directory changed while it was being written");
    return r.error();
  }
  return WriteFileResult{Sha256Hex(*content)};
}

}  // namespace cordon::ops
