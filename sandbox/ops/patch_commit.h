// The all-or-nothing second half of patch/apply: given every file's final state (computed in
// memory), stage each new content as a temp file beside its target, then swap them in, undoing
// every earlier step if any later one fails. Separate from apply_patch.cc so the transaction
// logic can be read (and tested) on its own.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/dir_cache.h"
#include "sandbox/ops/fs_primitives.h"
#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon::ops {

struct FileChange {
  ResolvedPath path;
  // What was there when the new content was computed; the commit refuses (and rolls back) if
  // the entry it swaps out is not that same inode any more.
  bool had_file = false;
  uint64_t dev = 0;
  uint64_t ino = 0;
  // The final state: a file with `content` and `mode`, or (write == false) no file.
  bool write = true;
  std::string content;
  uint32_t mode = 0666;
  bool exact_mode = false;  // mode is applied as is (kept or requested), not through the umask
};

// Stages and commits `changes`. On any error every path is as before and no temp, backup or
// created directory remains. Deleting the last file of a directory removes the emptied
// directories up to (not including) the root, as git apply does.
// `dirs` is the cache the changes were planned with, so both phases use the same directories.
Status CommitChanges(const Policy& policy, DirCache& dirs, std::vector<FileChange>& changes,
                     const std::atomic<bool>* cancel, const ApplyPatchHooks* hooks);

}  // namespace cordon::ops
