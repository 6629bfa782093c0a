// Parent directories opened once per operation: patch/apply touches many files in few
// directories, so each directory is opened (and where it really is checked) once, and both the
// planning and the commit phase work inside the very same held-open directories.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sandbox/ops/fs_primitives.h"

namespace cordon::ops {

class DirCache {
 public:
  explicit DirCache(const Policy& policy) : policy_(policy) {}
  DirCache(const DirCache&) = delete;
  DirCache& operator=(const DirCache&) = delete;

  struct Parent {
    const OsHandle* dir = nullptr;  // borrowed; valid for the cache's lifetime
    std::string name;
  };
  // As OpenParent, with the same checks; the entry's write check is repeated on every call.
  Result<Parent> Get(const ResolvedPath& path, bool create_parents, std::vector<CreatedDir>* created);

 private:
  struct Dir {
    OsHandle handle;
    std::string real;  // RealPathOf; empty when unknown
  };
  const Policy& policy_;
  std::map<std::string, Dir> dirs_;  // key: root + '\0' + directory below it
};

}  // namespace cordon::ops
