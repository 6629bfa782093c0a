// config.toml: the user's policy and server settings. Loaded from --config, else
// $XDG_CONFIG_HOME/cordon/config.toml (or ~/.config/cordon/config.toml), else built-in
// defaults; `-c key=value` overrides are applied on top. Unknown keys and wrong types are
// errors that name the key and its line. The policy never comes from the workspace itself.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon::server {

struct Config {
  SandboxMode sandbox_mode = SandboxMode::kWorkspaceWrite;
  std::vector<std::string> writable_roots;   // [sandbox_workspace_write] writable_roots
  bool network_access = false;               // [sandbox_workspace_write] network_access
  ResourceLimits limits;                     // [limits]
  std::vector<std::string> protected_paths;  // [paths] protected (names or absolute)
  std::vector<std::string> read_deny;        // [paths] read_deny (absolute or ~/...)
  EnvPolicy env;                             // [shell_environment_policy]
  bool allow_degraded = false;               // allow_degraded
  std::string windows_sandbox = "unelevated";  // [windows] sandbox
  size_t max_message_bytes = 64u << 20;      // [server] max_message_mb
  int max_depth = 128;                       // [server] max_depth
  int pool_size = 1;                         // [server] worker_pool
  std::string source = "built-in defaults";  // where the config came from, for logs
};

// Loads the config file (path may be empty: use the default location if it exists) and
// applies the overrides ("key=value", dotted keys allowed).
Result<Config> LoadConfig(const std::string& path, const std::vector<std::string>& overrides);
// Parses TOML text; `origin` names the text in errors.
Result<Config> ParseConfig(const std::string& text, const std::string& origin,
                           const std::vector<std::string>& overrides);

// Builds the session policy for `workspace` from the config. `home` expands "~/".
Result<Policy> BuildPolicy(const Config& config, const std::vector<std::string>& workspace_roots,
                           const std::string& home);

std::string DefaultConfigPath();

}  // namespace cordon::server
