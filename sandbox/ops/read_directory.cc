// POSIX only (see path_resolver.cc).
#ifndef _WIN32
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sandbox/ops/file_ops.h"
#include "sandbox/ops/path_resolver.h"

namespace cordon::ops {
namespace {

const char* TypeName(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISLNK(mode)) return "symlink";
  return "other";
}

struct Walk {
  const FsContext& ctx;
  uint32_t max_depth;
  std::vector<DirEntry> entries;
  bool truncated = false;
};

std::string Child(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Lists `dir_fd` (an fd that was opened beneath a root; subdirectories are opened relative to
// it with O_NOFOLLOW, so a symlink is listed but never entered).
Status ListInto(Walk& w, int dir_fd, const std::string& abs, const std::string& prefix, uint32_t depth) {
  UniqueFd fd(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return ErrnoError(ErrorKind::kInternal, "opening " + abs, errno);
  DIR* dir = ::fdopendir(fd.get());
  if (!dir) return ErrnoError(ErrorKind::kInternal, "listing " + abs, errno);
  fd.release();  // owned by `dir` now
  std::vector<std::pair<std::string, struct stat>> found;
  while (struct dirent* de = ::readdir(dir)) {
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(::dirfd(dir), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // raced away
    if (w.ctx.policy->IsReadDenied(Child(abs, name))) continue;
    found.emplace_back(std::move(name), st);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  Status status = OkStatus();
  for (const auto& [name, st] : found) {
    if (w.entries.size() >= w.ctx.limits.max_dir_entries) {
      w.truncated = true;
      break;
    }
    if (w.ctx.Cancelled()) {
      status = MakeError(ErrorKind::kCancelled, "fs/readDirectory cancelled");
      break;
    }
    w.entries.push_back(DirEntry{prefix + name, TypeName(st.st_mode),
                                 S_ISREG(st.st_mode) ? static_cast<uint64_t>(st.st_size) : 0});
    if (S_ISDIR(st.st_mode) && depth < w.max_depth) {
      UniqueFd sub(::openat(::dirfd(dir), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) continue;  // replaced by something else meanwhile
      status = ListInto(w, sub.get(), Child(abs, name), prefix + name + "/", depth + 1);
      if (!status) break;
    }
  }
  ::closedir(dir);
  return status;
}

}  // namespace

Result<ReadDirectoryResult> ReadDirectory(const FsContext& ctx, const ReadDirectoryParams& params) {
  auto path = ResolvePath(*ctx.policy, params.path, Access::kRead);
  if (!path) return path.error();
  auto root = OpenRoot(path->root);
  if (!root) return root.error();
  auto fd = OpenBeneath(root->get(), path->rel, O_PATH | O_DIRECTORY, 0, path->abs);
  if (!fd) {
    if (fd.error().kind == ErrorKind::kNotFound) {
      auto any = OpenBeneath(root->get(), path->rel, O_PATH, 0, path->abs);
      if (any) return MakeError(ErrorKind::kInvalidArgument, path->abs + " is not a directory");
    }
    return fd.error();
  }
  if (auto st = CheckRealLocation(*ctx.policy, fd->get(), "", Access::kRead, path->abs); !st) return st.error();
  Walk w{ctx, std::max<uint32_t>(params.depth, 1), {}, false};
  if (auto st = ListInto(w, fd->get(), path->abs, "", 1); !st) return st.error();
  ReadDirectoryResult out;
  out.entries = std::move(w.entries);
  out.truncated = w.truncated;
  return out;
}

}  // namespace cordon::ops
#endif  // _WIN32
