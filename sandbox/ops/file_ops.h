// The file methods of PROTOCOL.md §6 as plain functions, run by the session worker inside the
// sandbox (or in process by tests and benches). Each resolves its paths through
// path_resolver.h, returns errors as values, and polls ctx.cancel between steps.
#pragma once

#include <functional>
#include <string>

#include "sandbox/ops/fs_context.h"
#include "sandbox/ops/fs_types.h"
#include "sandbox/status.h"

namespace cordon::ops {

// fs/readFile: a line range (utf8) or byte range (base64) of a regular file, capped at
// ctx.limits.max_read_bytes (truncated = true), with the whole file's size, line count and
// SHA-256. Invalid UTF-8 is replaced by U+FFFD in utf8 mode.
Result<ReadFileResult> ReadFile(const FsContext& ctx, const ReadFileParams& params);

// fs/readDirectory: entries sorted by name, `depth` levels deep; symlinks are listed, never
// followed; read-denied entries are left out.
Result<ReadDirectoryResult> ReadDirectory(const FsContext& ctx, const ReadDirectoryParams& params);

// fs/getMetadata: the entry itself (a symlink is reported as one); sha256 for regular files.
Result<MetadataResult> GetMetadata(const FsContext& ctx, const GetMetadataParams& params);

// fs/writeFile: temp file in the target's directory, then rename over the name. An existing
// file (or hardlink, or symlink) is replaced, never written through; a replaced regular file
// keeps its permission bits. expectedSha256 mismatch (or a missing file) is kConflict.
Result<WriteFileResult> WriteFile(const FsContext& ctx, const WriteFileParams& params);

// Test hooks for patch/apply's commit phase; not part of the wire API.
struct ApplyPatchHooks {
  // Called before commit step `step` (0-based, one per changed path, in path order) with the
  // number of steps and the step's path; lets a test change the filesystem at an exact point
  // to force a mid-commit failure.
  std::function<void(size_t step, size_t steps, const std::string& abs_path)> before_commit_step;
};

// patch/apply: parse (auto-detect), compute every file's new content in memory, stage each as
// a temp file beside its target, then commit all with renameat2 (EXCHANGE for replaced files,
// NOREPLACE for new ones, rename-to-backup for deletions). Any failure - a hunk, a permission,
// a full disk, cancellation, a file changed meanwhile - undoes every earlier step: each file is
// byte-identical to before and no temp file remains. dryRun stops after the in-memory phase.
Result<ApplyPatchResult> ApplyPatch(const FsContext& ctx, const ApplyPatchParams& params,
                                    const ApplyPatchHooks* hooks = nullptr);

}  // namespace cordon::ops
