#include <algorithm>

#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/fs_primitives.h"

namespace cordon::ops {
namespace {

struct Walk {
  const FsContext& ctx;
  uint32_t max_depth;
  std::vector<DirEntry> entries;
  bool truncated = false;
};

std::string Child(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Lists `dir` (opened through OpenResolved or OpenSubdirectory; a symlink is listed but never
// entered).
Status ListInto(Walk& w, const OsHandle& dir, const std::string& abs, const std::string& prefix, uint32_t depth) {
  auto listed = ListDirectory(dir, abs);
  if (!listed) return listed.error();
  std::vector<ListedEntry> found;
  for (auto& e : *listed)
    if (!w.ctx.policy->IsReadDenied(Child(abs, e.name))) found.push_back(std::move(e));
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (const auto& [name, info] : found) {
    if (w.entries.size() >= w.ctx.limits.max_dir_entries) {
      w.truncated = true;
      break;
    }
    if (w.ctx.Cancelled()) return MakeError(ErrorKind::kCancelled, "fs/readDirectory cancelled");
    w.entries.push_back(DirEntry{prefix + name, EntryTypeName(info.type),
                                 info.type == EntryType::kFile ? info.size : 0});
    if (info.type == EntryType::kDir && depth < w.max_depth) {
      auto sub = OpenSubdirectory(*w.ctx.policy, dir, name, Child(abs, name));
      if (!sub) continue;  // replaced by something else meanwhile, or refused by the policy
      if (auto st = ListInto(w, *sub, Child(abs, name), prefix + name + "/", depth + 1); !st) return st;
    }
  }
  return OkStatus();
}

}  // namespace

Result<ReadDirectoryResult> ReadDirectory(const FsContext& ctx, const ReadDirectoryParams& params) {
  auto path = ResolvePath(*ctx.policy, params.path, Access::kRead);
  if (!path) return path.error();
  auto dir = OpenResolved(*ctx.policy, *path, OpenMode::kDirectory);
  if (!dir) return dir.error();
  Walk w{ctx, std::max<uint32_t>(params.depth, 1), {}, false};
  if (auto st = ListInto(w, *dir, path->abs, "", 1); !st) return st.error();
  ReadDirectoryResult out;
  out.entries = std::move(w.entries);
  out.truncated = w.truncated;
  return out;
}

}  // namespace cordon::ops
