#include "sandbox/policy.h"

#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <fstream>

namespace cordon {

const char* SandboxModeName(SandboxMode mode) {
  switch (mode) {
    case SandboxMode::kReadOnly: return "read-only";
    case SandboxMode::kWorkspaceWrite: return "workspace-write";
    case SandboxMode::kDangerFullAccess: return "danger-full-access";
  }
  return "workspace-write";
}

const char* NetworkModeName(NetworkMode mode) { return mode == NetworkMode::kFull ? "full" : "none"; }

Result<SandboxMode> ParseSandboxMode(const std::string& text) {
  if (text == "read-only") return SandboxMode::kReadOnly;
  if (text == "workspace-write") return SandboxMode::kWorkspaceWrite;
  if (text == "danger-full-access") return SandboxMode::kDangerFullAccess;
  return MakeError(ErrorKind::kInvalidArgument,
                   "sandbox mode must be read-only, workspace-write or danger-full-access, not \"" +
                       text + "\"");
}

Result<NetworkMode> ParseNetworkMode(const std::string& text) {
  if (text == "none" || text == "off" || text == "false") return NetworkMode::kNone;
  if (text == "full" || text == "on" || text == "true") return NetworkMode::kFull;
  return MakeError(ErrorKind::kInvalidArgument, "network must be none or full, not \"" + text + "\"");
}

Result<std::string> NormalizeAbsolutePath(const std::string& path) {
  if (path.empty() || path[0] != '/')
    return MakeError(ErrorKind::kInvalidArgument, "path must be absolute: \"" + path + "\"");
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string_view part(path.data() + i, j - i);
    if (part == "..")
      return MakeError(ErrorKind::kInvalidArgument, "path must not contain \"..\": \"" + path + "\"");
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    i = j;
  }
  if (out.empty()) out = "/";
  return out;
}

bool PathIsWithin(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  if (path.size() < root.size() || path.compare(0, root.size(), root) != 0) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

namespace {

bool AnyContains(const std::vector<std::string>& roots, const std::string& path) {
  return std::any_of(roots.begin(), roots.end(),
                     [&](const std::string& r) { return PathIsWithin(path, r); });
}

// Resolves symlinks of an existing directory so that mounts and Landlock rules name the real
// object. A path that does not exist is an error for roots (there is nothing to bind).
Result<std::string> RealDirectory(const std::string& path, const char* what) {
  auto norm = NormalizeAbsolutePath(path);
  if (!norm) return norm.error();
  char buf[PATH_MAX];
  if (!::realpath(norm->c_str(), buf))
    return ErrnoError(ErrorKind::kInvalidArgument, std::string(what) + " " + *norm, errno);
  struct stat st {};
  if (::stat(buf, &st) != 0 || !S_ISDIR(st.st_mode))
    return MakeError(ErrorKind::kInvalidArgument, std::string(what) + " is not a directory: " + *norm);
  return std::string(buf);
}

// For a path that may not exist yet: resolve the longest existing prefix.
std::string ResolveExistingPrefix(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf)) return buf;
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return path;
  std::string parent = ResolveExistingPrefix(path.substr(0, slash));
  return (parent == "/" ? "" : parent) + path.substr(slash);
}

// A worktree's .git may be a file "gitdir: /real/path"; that directory must be protected too.
std::optional<std::string> ResolvedGitDir(const std::string& root) {
  std::ifstream in(root + "/.git");
  if (!in) return std::nullopt;
  std::string line;
  std::getline(in, line);
  const std::string prefix = "gitdir: ";
  if (line.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  std::string dir = line.substr(prefix.size());
  if (!dir.empty() && dir[0] != '/') dir = root + "/" + dir;
  char buf[PATH_MAX];
  if (!::realpath(dir.c_str(), buf)) return std::nullopt;
  return std::string(buf);
}

void AddUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

}  // namespace

bool Policy::IsWritable(const std::string& abs_path) const {
  return AnyContains(writable_roots_, abs_path) && !IsProtected(abs_path) && !IsReadDenied(abs_path);
}
bool Policy::IsReadDenied(const std::string& abs_path) const { return AnyContains(read_deny_, abs_path); }
bool Policy::IsProtected(const std::string& abs_path) const {
  return AnyContains(protected_paths_, abs_path);
}

PolicyBuilder& PolicyBuilder::Mode(SandboxMode mode) { mode_ = mode; return *this; }
PolicyBuilder& PolicyBuilder::WorkspaceRoot(std::string p) { workspace_roots_.push_back(std::move(p)); return *this; }
PolicyBuilder& PolicyBuilder::WritableRoot(std::string p) { writable_roots_.push_back(std::move(p)); return *this; }
PolicyBuilder& PolicyBuilder::ProtectedName(std::string n) { protected_names_.push_back(std::move(n)); return *this; }
PolicyBuilder& PolicyBuilder::ProtectedPath(std::string p) { protected_paths_.push_back(std::move(p)); return *this; }
PolicyBuilder& PolicyBuilder::ReadDeny(std::string p) { read_deny_.push_back(std::move(p)); return *this; }
PolicyBuilder& PolicyBuilder::Network(NetworkMode n) { network_ = n; return *this; }
PolicyBuilder& PolicyBuilder::Limits(const ResourceLimits& l) { limits_ = l; return *this; }
PolicyBuilder& PolicyBuilder::Env(EnvPolicy env) { env_ = std::move(env); return *this; }
PolicyBuilder& PolicyBuilder::AllowDegraded(bool a) { allow_degraded_ = a; return *this; }
PolicyBuilder& PolicyBuilder::ClearDefaults() {
  protected_names_.clear();
  read_deny_.clear();
  return *this;
}

PolicyBuilder PolicyBuilder::Defaults(const std::string& home) {
  PolicyBuilder b;
  if (!home.empty() && home[0] == '/') {
    for (const char* rel : {".ssh", ".aws", ".gnupg", ".config/gcloud", ".docker", ".netrc"})
      b.read_deny_.push_back(home + "/" + rel);
  }
  return b;
}

Result<Policy> PolicyBuilder::Build() const {
  Policy p;
  p.mode_ = mode_;
  p.network_ = network_;
  p.limits_ = limits_;
  p.env_ = env_;
  p.allow_degraded_ = allow_degraded_;

  if (workspace_roots_.empty())
    return MakeError(ErrorKind::kInvalidArgument, "a policy needs at least one workspace root");
  for (const auto& root : workspace_roots_) {
    auto real = RealDirectory(root, "workspace root");
    if (!real) return real.error();
    AddUnique(p.workspace_roots_, *real);
  }
  for (const auto& path : read_deny_) {
    auto norm = NormalizeAbsolutePath(path);
    if (!norm) return norm.error();
    AddUnique(p.read_deny_, ResolveExistingPrefix(*norm));
  }
  if (limits_.memory_bytes != 0 && limits_.memory_bytes < (8ull << 20))
    return MakeError(ErrorKind::kInvalidArgument, "limits.memory_mb must be at least 8");
  if (limits_.max_processes == 1)
    return MakeError(ErrorKind::kInvalidArgument, "limits.max_processes must be at least 2");

  switch (mode_) {
    case SandboxMode::kReadOnly:
      if (!writable_roots_.empty())
        return MakeError(ErrorKind::kInvalidArgument,
                         "writable_roots contradicts sandbox_mode = \"read-only\"");
      break;
    case SandboxMode::kDangerFullAccess:
      p.writable_roots_.push_back("/");
      break;
    case SandboxMode::kWorkspaceWrite:
      for (const auto& root : p.workspace_roots_) AddUnique(p.writable_roots_, root);
      for (const auto& root : writable_roots_) {
        auto real = RealDirectory(root, "writable root");
        if (!real) return real.error();
        AddUnique(p.writable_roots_, *real);
      }
      break;
  }
  for (const auto& root : p.writable_roots_) {
    for (const auto& denied : p.read_deny_) {
      if (PathIsWithin(root, denied))
        return MakeError(ErrorKind::kInvalidArgument,
                         "writable root " + root + " lies inside the read-denied path " + denied);
    }
  }
  if (mode_ == SandboxMode::kWorkspaceWrite) {
    for (const auto& root : p.writable_roots_) {
      for (const auto& name : protected_names_) {
        auto joined = NormalizeAbsolutePath(root + "/" + name);
        if (!joined) return joined.error();
        AddUnique(p.protected_paths_, *joined);
      }
      if (auto gitdir = ResolvedGitDir(root)) AddUnique(p.protected_paths_, *gitdir);
    }
    for (const auto& path : protected_paths_) {
      auto norm = NormalizeAbsolutePath(path);
      if (!norm) return norm.error();
      AddUnique(p.protected_paths_, ResolveExistingPrefix(*norm));
    }
  }
  return p;
}

Result<Policy> Narrow(const Policy& base, const PolicyOverride& req) {
  auto denied = [](const std::string& what) {
    return MakeError(ErrorKind::kPolicyDenied, "a client may only narrow the policy: " + what);
  };
  PolicyBuilder b;
  b.ClearDefaults();
  SandboxMode mode = base.mode();
  if (req.mode) {
    auto rank = [](SandboxMode m) {
      return m == SandboxMode::kReadOnly ? 0 : m == SandboxMode::kWorkspaceWrite ? 1 : 2;
    };
    if (rank(*req.mode) > rank(base.mode()))
      return denied(std::string("sandbox mode ") + SandboxModeName(*req.mode) + " is wider than " +
                    SandboxModeName(base.mode()));
    mode = *req.mode;
  }
  b.Mode(mode);

  std::vector<std::string> workspace = base.workspace_roots();
  if (req.workspace_roots && !req.workspace_roots->empty()) {
    workspace.clear();
    for (const auto& r : *req.workspace_roots) {
      char buf[PATH_MAX];
      std::string real = ::realpath(r.c_str(), buf) ? buf : r;
      // A new workspace root must lie within what the base policy can already read-write
      // (or, in read-only mode, within an existing workspace root).
      const auto& scope = base.mode() == SandboxMode::kReadOnly ? base.workspace_roots()
                                                                  : base.writable_roots();
      if (!AnyContains(scope, real) && !AnyContains(base.workspace_roots(), real))
        return denied("workspace root " + r + " is outside the configured roots");
      workspace.push_back(real);
    }
  }
  for (const auto& w : workspace) b.WorkspaceRoot(w);

  if (mode == SandboxMode::kWorkspaceWrite) {
    // Extra writable roots (beyond the workspace roots) must already be writable in base.
    const std::vector<std::string>* extra = nullptr;
    std::vector<std::string> base_extra;
    for (const auto& r : base.writable_roots())
      if (!AnyContains(workspace, r)) base_extra.push_back(r);
    if (req.writable_roots) extra = &*req.writable_roots; else extra = &base_extra;
    for (const auto& r : *extra) {
      char buf[PATH_MAX];
      std::string real = ::realpath(r.c_str(), buf) ? buf : r;
      if (!base.IsWritable(real) && !AnyContains(base.writable_roots(), real))
        return denied("writable root " + r + " is not writable in the configured policy");
      b.WritableRoot(real);
    }
    for (const auto& w : workspace)
      if (!AnyContains(base.writable_roots(), w))
        return denied("workspace root " + w + " is not writable in the configured policy");
  }
  for (const auto& p : base.protected_paths()) b.ProtectedPath(p);
  for (const auto& p : req.extra_protected) b.ProtectedPath(p);
  // The base's protected paths already include the names resolved per root; keep the names
  // for narrowed roots too.
  b.ProtectedName(".git").ProtectedName(".cordon");
  for (const auto& p : base.read_deny()) b.ReadDeny(p);
  for (const auto& p : req.extra_read_deny) b.ReadDeny(p);

  NetworkMode net = base.network();
  if (req.network) {
    if (*req.network == NetworkMode::kFull && base.network() == NetworkMode::kNone)
      return denied("network is off in the configured policy");
    net = *req.network;
  }
  b.Network(net);

  ResourceLimits lim = base.limits();
  auto narrow64 = [&](const std::optional<uint64_t>& want, uint64_t& have, const char* name) -> Status {
    if (!want) return OkStatus();
    if (*want == 0 || (have != 0 && *want > have)) return denied(std::string(name) + " above the configured limit");
    have = *want;
    return OkStatus();
  };
  auto narrow32 = [&](const std::optional<uint32_t>& want, uint32_t& have, const char* name) -> Status {
    if (!want) return OkStatus();
    if (*want == 0 || (have != 0 && *want > have)) return denied(std::string(name) + " above the configured limit");
    have = *want;
    return OkStatus();
  };
  for (Status s : {narrow64(req.memory_bytes, lim.memory_bytes, "memory"),
                   narrow32(req.max_processes, lim.max_processes, "max_processes"),
                   narrow32(req.cpu_seconds, lim.cpu_seconds, "cpu_seconds"),
                   narrow32(req.wall_timeout_ms, lim.wall_timeout_ms, "wall_timeout_ms"),
                   narrow64(req.max_output_bytes, lim.max_output_bytes, "max_output_bytes")}) {
    if (!s) return s.error();
  }
  b.Limits(lim);
  b.Env(base.env());
  b.AllowDegraded(base.allow_degraded());
  return b.Build();
}

}  // namespace cordon
