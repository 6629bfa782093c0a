// POSIX implementation detail of fs_primitives.h. Small fd-level helpers: whole-file reads with a cap, temp
// files created next to their target (so a rename is atomic and never crosses filesystems),
// and errno-to-ErrorKind mapping for writes.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "sandbox/status.h"
#include "sandbox/unique_fd.h"

namespace cordon::ops {

// Reads a regular file from an open fd; more than `max_bytes` is kLimitExceeded.
Result<std::string> ReadAll(int fd, uint64_t max_bytes, const std::string& display);

// Opens `name` in `dir_fd` for reading without following a final symlink, and reads it.
Result<std::string> ReadEntryAt(int dir_fd, const std::string& name, uint64_t max_bytes,
                              const std::string& display);

// Creates a temp file in `dir_fd` holding `content`. `mode` is applied exactly when
// `exact_mode` (a replaced file keeps its bits), else through the umask (a new file).
// Returns the temp's name; on failure nothing is left behind.
Result<std::string> CreateTempFileAt(int dir_fd, std::string_view content, mode_t mode, bool exact_mode,
                                   const std::string& display);

// Maps a failed write/rename errno: ENOSPC/EDQUOT/EFBIG -> kLimitExceeded, EACCES/EPERM/EROFS
// -> kPolicyDenied, ENOENT/ENOTDIR (the directory changed meanwhile) -> kConflict, others ->
// kInternal.
Error WriteError(int err, const std::string& what);

}  // namespace cordon::ops
