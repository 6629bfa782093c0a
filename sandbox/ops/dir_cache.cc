#include "sandbox/ops/dir_cache.h"

namespace cordon::ops {

const char* EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kFile: return "file";
    case EntryType::kDir: return "dir";
    case EntryType::kSymlink: return "symlink";
    case EntryType::kOther: return "other";
  }
  return "other";
}

Result<DirCache::Parent> DirCache::Get(const ResolvedPath& path, bool create_parents,
                                       std::vector<CreatedDir>* created) {
  if (path.rel.empty())
    return MakeError(ErrorKind::kInvalidArgument, path.abs + " is a root directory, not a file");
  size_t slash = path.rel.rfind('/');
  std::string dir_rel = slash == std::string::npos ? "" : path.rel.substr(0, slash);
  Parent out;
  out.name = slash == std::string::npos ? path.rel : path.rel.substr(slash + 1);
  const std::string key = path.root + '\0' + dir_rel;
  auto it = dirs_.find(key);
  if (it == dirs_.end()) {
    auto parent = OpenParent(policy_, path, create_parents, created);
    if (!parent) return parent.error();
    Dir d{std::move(parent->dir), {}};
    d.real = RealPathOf(d.handle);
    it = dirs_.emplace(key, std::move(d)).first;
  }
  if (auto st = CheckWritableEntry(policy_, it->second.real, out.name, path.abs); !st) return st.error();
  out.dir = &it->second.handle;
  return out;
}

}  // namespace cordon::ops
