// The platform backend behind sessions: builds sandbox sessions for a policy (pre-building
// workers for the default policy in a small pool), and describes the host. MakeSandboxBackend()
// is implemented once per platform folder (linux/, win/); nothing above it has an #ifdef.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/policy.h"
#include "sandbox/session.h"

namespace cordon {

class SandboxBackend {
 public:
  virtual ~SandboxBackend() = default;
  virtual std::string Platform() const = 0;
  // The host probe as sandbox/info's `host` object.
  virtual nlohmann::json HostJson() const = 0;
  // What a session with this policy would get on this host, without building one.
  virtual EnforcementReport Predict(const Policy& policy) const = 0;
  // Builds a session, or fails with `unsupported` (host cannot enforce the policy and
  // allow_degraded is off) or `sandbox_failed`.
  virtual Result<std::shared_ptr<SandboxSession>> CreateSession(const Policy& policy) = 0;
  // Keeps `count` workers ready for `policy` (0 disables the pool).
  virtual void Prewarm(const Policy& policy, int count) = 0;
};

// Host settings from the server's config that pick a backend variant.
struct BackendOptions {
  std::string windows_sandbox = "unelevated";  // [windows] sandbox: "unelevated" | "elevated"
  std::string windows_credentials_file;        // empty: where `cordon windows-setup` stores them
};

std::unique_ptr<SandboxBackend> MakeSandboxBackend(const BackendOptions& options = {});

}  // namespace cordon
