// The sandbox policy: a platform-neutral, immutable value. It is built once by PolicyBuilder,
// which validates everything (absolute paths, no "..", no contradictions); every later stage
// (worker pipeline, operations, sandbox/info) reads a finished Policy and never re-checks it.
// A client may only narrow a policy (Policy::Narrow), never widen it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon {

enum class SandboxMode { kReadOnly, kWorkspaceWrite, kDangerFullAccess };
enum class NetworkMode { kNone, kFull };

const char* SandboxModeName(SandboxMode mode);
const char* NetworkModeName(NetworkMode mode);
Result<SandboxMode> ParseSandboxMode(const std::string& text);
Result<NetworkMode> ParseNetworkMode(const std::string& text);

// Resource limits. Zero means "no limit" for the optional ones.
struct ResourceLimits {
  uint64_t memory_bytes = 512ull << 20;      // whole session (cgroup) or per process (rlimit)
  uint32_t max_processes = 512;              // whole session (pids controller) or per uid
  uint32_t cpu_seconds = 0;                  // per command, RLIMIT_CPU
  uint32_t wall_timeout_ms = 0;              // per command default; 0 = none
  uint64_t max_output_bytes = 64ull << 20;   // per command, stdout+stderr
  uint64_t max_file_bytes = 4ull << 30;      // RLIMIT_FSIZE per command
  uint64_t tmp_bytes = 256ull << 20;         // size of the private /tmp
  uint32_t max_open_files = 4096;            // RLIMIT_NOFILE
};

// How a command's environment is built: start from the server's variables named in
// `inherit` (all of them when inherit_all), drop names matching any `exclude` glob
// (case-insensitive), then apply `set`.
struct EnvPolicy {
  bool inherit_all = false;
  std::vector<std::string> inherit = {"PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TERM",
                                      "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR"};
  std::vector<std::string> exclude = {"*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*"};
  std::map<std::string, std::string> set;
};

class Policy {
 public:
  SandboxMode mode() const { return mode_; }
  // Workspace roots: the first one is the default cwd. Always readable.
  const std::vector<std::string>& workspace_roots() const { return workspace_roots_; }
  // Writable roots: empty in read-only mode; "/" in danger-full-access.
  const std::vector<std::string>& writable_roots() const { return writable_roots_; }
  // Paths inside writable roots that stay read-only (.git, .cordon, configured).
  const std::vector<std::string>& protected_paths() const { return protected_paths_; }
  // Paths that cannot be read at all (~/.ssh and friends, configured).
  const std::vector<std::string>& read_deny() const { return read_deny_; }
  NetworkMode network() const { return network_; }
  const ResourceLimits& limits() const { return limits_; }
  const EnvPolicy& env() const { return env_; }
  // When true, a host that cannot confine the filesystem or network still gets a session,
  // with the gap reported by sandbox/info and `cordon check`. Never the default.
  bool allow_degraded() const { return allow_degraded_; }

  bool IsWritable(const std::string& abs_path) const;
  bool IsReadDenied(const std::string& abs_path) const;
  bool IsProtected(const std::string& abs_path) const;

 private:
  friend class PolicyBuilder;
  SandboxMode mode_ = SandboxMode::kWorkspaceWrite;
  std::vector<std::string> workspace_roots_;
  std::vector<std::string> writable_roots_;
  std::vector<std::string> protected_paths_;
  std::vector<std::string> read_deny_;
  NetworkMode network_ = NetworkMode::kNone;
  ResourceLimits limits_;
  EnvPolicy env_;
  bool allow_degraded_ = false;
};

// What a client may ask for on top of the configured policy. Every field only narrows.
struct PolicyOverride {
  std::optional<SandboxMode> mode;
  std::optional<std::vector<std::string>> workspace_roots;
  std::optional<std::vector<std::string>> writable_roots;
  std::optional<NetworkMode> network;
  std::optional<uint64_t> memory_bytes;
  std::optional<uint32_t> max_processes;
  std::optional<uint32_t> cpu_seconds;
  std::optional<uint32_t> wall_timeout_ms;
  std::optional<uint64_t> max_output_bytes;
  std::vector<std::string> extra_protected;
  std::vector<std::string> extra_read_deny;
};

class PolicyBuilder {
 public:
  PolicyBuilder& Mode(SandboxMode mode);
  PolicyBuilder& WorkspaceRoot(std::string path);
  PolicyBuilder& WritableRoot(std::string path);      // extra, besides the workspace roots
  PolicyBuilder& ProtectedName(std::string name);     // relative to each writable root (".git")
  PolicyBuilder& ProtectedPath(std::string path);     // absolute
  PolicyBuilder& ReadDeny(std::string path);          // absolute ("~/" already expanded)
  PolicyBuilder& Network(NetworkMode network);
  PolicyBuilder& Limits(const ResourceLimits& limits);
  PolicyBuilder& Env(EnvPolicy env);
  PolicyBuilder& AllowDegraded(bool allow);
  // Replace the default protected names / read-deny list instead of extending it.
  PolicyBuilder& ClearDefaults();

  // Validates once: absolute, normalised paths without "..", writable roots that exist,
  // no writable root inside a read-denied path. Resolves symlinks in the roots so the
  // mount plan and Landlock see the real directories, and adds the resolved git dir of each
  // writable root to the protected paths.
  Result<Policy> Build() const;

  // The built-in defaults: workspace-write, network off, protected .git/.cordon, and the
  // read-deny list under `home`.
  static PolicyBuilder Defaults(const std::string& home);

 private:
  SandboxMode mode_ = SandboxMode::kWorkspaceWrite;
  std::vector<std::string> workspace_roots_;
  std::vector<std::string> writable_roots_;
  std::vector<std::string> protected_names_ = {".git", ".cordon"};
  std::vector<std::string> protected_paths_;
  std::vector<std::string> read_deny_;
  NetworkMode network_ = NetworkMode::kNone;
  ResourceLimits limits_;
  EnvPolicy env_;
  bool allow_degraded_ = false;
};

// Returns base narrowed by `request`, or policy_denied naming the first field that would widen.
Result<Policy> Narrow(const Policy& base, const PolicyOverride& request);

// Lexical normalisation of an absolute path: collapses "//" and "/./", strips a trailing "/".
// Returns an error for relative paths and for any ".." component.
Result<std::string> NormalizeAbsolutePath(const std::string& path);
// True if `path` is `root` or lies below it (both normalised).
bool PathIsWithin(const std::string& path, const std::string& root);

}  // namespace cordon

#include <nlohmann/json.hpp>

namespace cordon {
// The policy as sandbox/info shows it, and as the worker receives it.
nlohmann::json PolicyToJson(const Policy& policy);
// Rebuilds a policy sent by PolicyToJson (validating it again).
Result<Policy> PolicyFromJson(const nlohmann::json& json);
}  // namespace cordon
