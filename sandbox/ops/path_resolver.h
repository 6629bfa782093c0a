// POSIX implementation detail of fs_primitives.h.
// Maps a request path onto (root directory fd, remainder) and opens it with the kernel doing the
// containment: openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the root, so a symlink or
// ".." that leads out of the root fails inside the kernel (no realpath-then-open race). Kernels
// without openat2 get a per-component O_NOFOLLOW walk that refuses every symlink.
//
// Scopes: readable = workspace roots + writable roots, minus read_deny; writable = writable
// roots minus protected and read-denied paths. Both are checked lexically first and again on
// the real location of the opened fd, so an in-root symlink to a protected or read-denied path
// is refused too. The sandbox's mounts and Landlock rules remain the second layer.
#pragma once

#include <fcntl.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "sandbox/ops/fs_primitives.h"
#include "sandbox/policy.h"
#include "sandbox/status.h"
#include "sandbox/unique_fd.h"

namespace cordon::ops {

// Opens a root directory (O_PATH). Roots come from the validated policy.
Result<UniqueFd> OpenRoot(const std::string& root);

// Opens `rel` (may be "") beneath `root_fd`. `display` names the path in errors. Errors:
// kPolicyDenied for escapes, magic links and kernel denials; kNotFound for ENOENT/ENOTDIR.
Result<UniqueFd> OpenBeneath(int root_fd, const std::string& rel, int flags, mode_t mode,
                             const std::string& display);

// Where an open fd really is (/proc/self/fd), re-checked against the scope; `leaf` is appended
// for a parent directory. Without /proc the check is skipped (the lexical one still ran).
Status CheckRealLocation(const Policy& policy, int fd, const std::string& leaf, Access access,
                         const std::string& display);

// Where an fd really is, per /proc; "" when /proc is not mounted.
std::string FdRealPath(int fd);
// The check of CheckRealLocation on a path already read ("" passes).
Status CheckRealPath(const Policy& policy, std::string real, const std::string& leaf, Access access,
                     const std::string& display);

// Test hook: behave as if the kernel lacked openat2 (exercises the O_NOFOLLOW walk).
void ForceNoOpenat2ForTesting(bool force);

}  // namespace cordon::ops
