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

#include <map>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"
#include "sandbox/unique_fd.h"

namespace cordon::ops {

enum class Access { kRead, kWrite };

struct ResolvedPath {
  std::string abs;   // lexically normalised absolute path
  std::string root;  // the (longest) root of the scope that contains it
  std::string rel;   // below root; "" for the root itself
};

// Lexical step: absolute, or relative to the first workspace root; ".." components are refused
// (kPolicyDenied), as is anything outside the scope of `access`.
Result<ResolvedPath> ResolvePath(const Policy& policy, const std::string& request, Access access);

// Opens a root directory (O_PATH). Roots come from the validated policy.
Result<UniqueFd> OpenRoot(const std::string& root);

// Opens `rel` (may be "") beneath `root_fd`. `display` names the path in errors. Errors:
// kPolicyDenied for escapes, magic links and kernel denials; kNotFound for ENOENT/ENOTDIR.
Result<UniqueFd> OpenBeneath(int root_fd, const std::string& rel, int flags, mode_t mode,
                             const std::string& display);

// The directory that holds a path to be written, and the entry name in it.
struct ParentDir {
  UniqueFd dir;      // O_PATH directory fd; all later *at() calls go through it
  std::string name;  // a single component, never "", "." or ".."
};

// A directory created by OpenParent (for rollback: unlinkat(parent, name, AT_REMOVEDIR)).
struct CreatedDir {
  UniqueFd parent;
  std::string name;
};

// Opens the parent of a writable path; with `create_parents`, missing directories are created
// one by one (each through the kernel-checked parent fd) and recorded in `created`.
Result<ParentDir> OpenParent(const Policy& policy, const ResolvedPath& path, bool create_parents,
                             std::vector<CreatedDir>* created = nullptr);

// Where an open fd really is (/proc/self/fd), re-checked against the scope; `leaf` is appended
// for a parent directory. Without /proc the check is skipped (the lexical one still ran).
Status CheckRealLocation(const Policy& policy, int fd, const std::string& leaf, Access access,
                         const std::string& display);

// Parent directories opened once per operation: patch/apply touches many files in few
// directories, so each root and directory is opened (and its real location checked) once.
// Returned fds are borrowed and stay valid for the cache's lifetime.
class DirCache {
 public:
  explicit DirCache(const Policy& policy) : policy_(policy) {}
  DirCache(const DirCache&) = delete;
  DirCache& operator=(const DirCache&) = delete;

  struct Parent {
    int dir = -1;
    std::string name;
  };
  // As OpenParent, with the same checks.
  Result<Parent> Get(const ResolvedPath& path, bool create_parents, std::vector<CreatedDir>* created);

 private:
  struct Dir {
    UniqueFd fd;
    std::string real;  // from /proc/self/fd; empty when unknown
  };
  const Policy& policy_;
  std::map<std::string, Dir> dirs_;  // key: root + '\0' + directory below it
};

// Test hook: behave as if the kernel lacked openat2 (exercises the O_NOFOLLOW walk).
void ForceNoOpenat2ForTesting(bool force);

}  // namespace cordon::ops
