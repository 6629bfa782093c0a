// POSIX primitives of fs_primitives.h: resolution beneath a root fd (see path_resolver.h).
#ifndef _WIN32
#include "sandbox/ops/path_resolver.h"

#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace cordon::ops {
namespace {

std::atomic<bool> g_force_no_openat2{false};

std::vector<std::string> SplitComponents(const std::string& rel) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    if (j > i) parts.push_back(rel.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

std::string Join(const std::vector<std::string>& parts, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out;
}

std::string ListRoots(const std::vector<std::string>& roots) {
  std::string out;
  for (const auto& r : roots) out += (out.empty() ? "" : ", ") + r;
  return out.empty() ? "none" : out;
}

Error MapOpenError(int err, const std::string& display) {
  switch (err) {
    case EXDEV:
      return MakeError(ErrorKind::kPolicyDenied,
                       display + " resolves outside its root (a symlink or \"..\" leads out of the "
                                 "allowed directories)");
    case ELOOP:
      return MakeError(ErrorKind::kPolicyDenied,
                       display + " goes through a symlink that is not followed here (a magic link "
                                 "such as /proc/self/root, too many links, or a final symlink)");
    case ENOENT:
      return MakeError(ErrorKind::kNotFound, display + " does not exist");
    case ENOTDIR:
      return MakeError(ErrorKind::kNotFound, display + ": a parent component is not a directory");
    case EACCES:
    case EPERM:
    case EROFS:
      return ErrnoError(ErrorKind::kPolicyDenied, display, err);
    case EISDIR:
      return MakeError(ErrorKind::kInvalidArgument, display + " is a directory");
    default:
      return ErrnoError(ErrorKind::kInternal, display, err);
  }
}

// Per-component walk for kernels without openat2: every component is opened with O_NOFOLLOW,
// so no symlink is ever followed (they are refused rather than resolved in user space).
Result<UniqueFd> WalkBeneath(int root_fd, const std::string& rel, int flags, mode_t mode,
                             const std::string& display) {
  std::vector<std::string> parts = SplitComponents(rel);
  UniqueFd cur(::openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return MapOpenError(errno, display);
  if (parts.empty()) {
    UniqueFd fd(::openat(root_fd, ".", flags | O_CLOEXEC, mode));
    if (!fd) return MapOpenError(errno, display);
    return fd;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "..") return MapOpenError(EXDEV, display);
    bool last = i + 1 == parts.size();
    int f = last ? (flags | O_NOFOLLOW | O_CLOEXEC) : (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    UniqueFd next(::openat(cur.get(), parts[i].c_str(), f, mode));
    if (!next) {
      int err = errno;
      struct stat st {};
      if ((err == ENOTDIR || err == ELOOP) &&
          ::fstatat(cur.get(), parts[i].c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
        err = ELOOP;
      return MapOpenError(err, display);
    }
    if (last && (flags & O_PATH)) {
      struct stat st {};
      if (::fstat(next.get(), &st) == 0 && S_ISLNK(st.st_mode)) return MapOpenError(ELOOP, display);
    }
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

void ForceNoOpenat2ForTesting(bool force) { g_force_no_openat2 = force; }

Result<ResolvedPath> ResolvePath(const Policy& policy, const std::string& request, Access access) {
  if (request.empty()) return MakeError(ErrorKind::kInvalidArgument, "the path is empty");
  if (request.find('\0') != std::string::npos)
    return MakeError(ErrorKind::kInvalidArgument, "the path contains a NUL byte");
  if (policy.workspace_roots().empty())
    return MakeError(ErrorKind::kPolicyDenied, "the session has no workspace root");
  std::string joined = request[0] == '/' ? request : policy.workspace_roots()[0] + "/" + request;
  for (const auto& part : SplitComponents(joined)) {
    if (part == "..")
      return MakeError(ErrorKind::kPolicyDenied,
                       "\"..\" is not allowed in paths (it could lead out of the workspace): " + request);
  }
  auto norm = NormalizeAbsolutePath(joined);
  if (!norm) return MakeError(ErrorKind::kInvalidArgument, norm.error().detail);
  const std::string& abs = *norm;

  std::vector<std::string> scope = policy.writable_roots();
  if (access == Access::kRead) {
    for (const auto& r : policy.workspace_roots())
      if (std::find(scope.begin(), scope.end(), r) == scope.end()) scope.push_back(r);
  }
  const std::string* best = nullptr;
  for (const auto& r : scope) {
    if (PathIsWithin(abs, r) && (!best || r.size() > best->size())) best = &r;
  }
  if (!best) {
    return MakeError(ErrorKind::kPolicyDenied,
                     abs + " is outside the " + (access == Access::kRead ? "readable" : "writable") +
                         " roots (" + ListRoots(scope) + ")");
  }
  if (policy.IsReadDenied(abs))
    return MakeError(ErrorKind::kPolicyDenied, abs + " is read-denied by the policy");
  if (access == Access::kWrite && policy.IsProtected(abs))
    return MakeError(ErrorKind::kPolicyDenied, abs + " is protected (read-only) by the policy");

  ResolvedPath out;
  out.abs = abs;
  out.root = *best;
  if (abs.size() > best->size()) out.rel = abs.substr(*best == "/" ? 1 : best->size() + 1);
  return out;
}

Result<UniqueFd> OpenRoot(const std::string& root) {
  UniqueFd fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return MapOpenError(errno, "root " + root);
  return fd;
}

Result<UniqueFd> OpenBeneath(int root_fd, const std::string& rel, int flags, mode_t mode,
                             const std::string& display) {
  if (!g_force_no_openat2) {
    struct open_how how {};
    how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
    how.mode = (flags & O_CREAT) ? mode : 0;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const char* path = rel.empty() ? "." : rel.c_str();
    for (int attempt = 0; attempt < 16; ++attempt) {
      long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
      if (fd >= 0) return UniqueFd(static_cast<int>(fd));
      int err = errno;
      // EAGAIN: a concurrent rename or mount raced a ".." check; the kernel asks for a retry.
      if (err == EAGAIN || err == EINTR) continue;
      if (err != ENOSYS) return MapOpenError(err, display);
      break;
    }
    if (errno != ENOSYS)
      return MakeError(ErrorKind::kConflict, display + " kept changing while it was looked up");
  }
  return WalkBeneath(root_fd, rel, flags, mode, display);
}

std::string FdRealPath(int fd) {
  char buf[4096];
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(link.c_str(), buf, sizeof(buf) - 1);
  if (n <= 0 || buf[0] != '/') return {};
  return std::string(buf, static_cast<size_t>(n));
}

Status CheckRealPath(const Policy& policy, std::string real, const std::string& leaf, Access access,
                     const std::string& display) {
  if (real.empty()) return OkStatus();
  if (!leaf.empty()) real += (real == "/" ? "" : "/") + leaf;
  if (policy.IsReadDenied(real))
    return MakeError(ErrorKind::kPolicyDenied, display + " is really " + real + ", which is read-denied");
  if (access == Access::kWrite && policy.IsProtected(real))
    return MakeError(ErrorKind::kPolicyDenied, display + " is really " + real + ", which is protected");
  return OkStatus();
}

Status CheckRealLocation(const Policy& policy, int fd, const std::string& leaf, Access access,
                         const std::string& display) {
  return CheckRealPath(policy, FdRealPath(fd), leaf, access, display);
}

Result<ParentDir> OpenParent(const Policy& policy, const ResolvedPath& path, bool create_parents,
                             std::vector<CreatedDir>* created) {
  std::vector<std::string> parts = SplitComponents(path.rel);
  if (parts.empty())
    return MakeError(ErrorKind::kInvalidArgument, path.abs + " is a root directory, not a file");
  auto root = OpenRoot(path.root);
  if (!root) return root.error();
  ParentDir out;
  out.name = parts.back();
  const size_t depth = parts.size() - 1;
  if (!create_parents) {
    auto dir = OpenBeneath(root->get(), Join(parts, depth), O_PATH | O_DIRECTORY, 0,
                           "the parent directory of " + path.abs);
    if (!dir) return dir.error();
    out.dir = OsHandle(dir->release());
  } else {
    UniqueFd cur(::dup(root->get()));
    if (!cur) return ErrnoError(ErrorKind::kInternal, "dup", errno);
    for (size_t k = 1; k <= depth; ++k) {
      const std::string prefix = Join(parts, k);
      const std::string display = path.root + (path.root == "/" ? "" : "/") + prefix;
      auto next = OpenBeneath(root->get(), prefix, O_PATH | O_DIRECTORY, 0, display);
      if (!next && next.error().kind == ErrorKind::kNotFound) {
        // Created through the parent fd we already hold, so the new directory is where we looked.
        if (::mkdirat(cur.get(), parts[k - 1].c_str(), 0777) == 0) {
          if (created) created->push_back(CreatedDir{OsHandle(::dup(cur.get())), parts[k - 1]});
        } else if (errno != EEXIST) {
          return MapOpenError(errno, display);
        }
        next = OpenBeneath(root->get(), prefix, O_PATH | O_DIRECTORY, 0, display);
      }
      if (!next) return next.error();
      cur = std::move(next.value());
    }
    out.dir = OsHandle(cur.release());
  }
  if (auto st = CheckRealLocation(policy, static_cast<int>(out.dir.get()), out.name, Access::kWrite, path.abs); !st)
    return st.error();
  return out;
}

}  // namespace cordon::ops
#endif  // _WIN32
