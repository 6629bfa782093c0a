// An elevated-mode session (SandboxSession): each command is started by its own
// cordon-runner.exe, launched as the sandbox user (offline when the network is off) inside the
// session's Job; the runner derives the write-restricted capability token from the sandbox
// user's token, so a command holds neither the developer's identity nor unrestricted writes.
// File operations run in the server as in unelevated mode (the server's restricted token,
// impersonated) - the sandbox user's identity applies to commands.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/session.h"
#include "sandbox/win/job.h"
#include "sandbox/win/restricted_token.h"
#include "sandbox/win/runner_client.h"

namespace cordon::win {

struct ElevatedSessionParts {
  Job job;                                   // the session's Job; every runner is put in it
  std::shared_ptr<RunnerLauncher> launcher;  // logon launcher in production
  std::wstring runner_exe;                   // cordon-runner.exe
  std::string capability_sid;                // empty: no restricted token (danger-full-access)
  std::optional<RestrictedToken> ops_token;  // file operations in the server
  std::vector<std::pair<std::string, std::string>> extra_env;
  bool profile_env = true;                   // the runner overlays its own profile variables
  bool private_desktop = true;
};

class ElevatedSession final : public SandboxSession {
 public:
  ElevatedSession(Policy policy, EnforcementReport report, ElevatedSessionParts parts);
  ~ElevatedSession() override;

  const Policy& policy() const override { return policy_; }
  const EnforcementReport& enforcement() const override { return report_; }
  Result<std::unique_ptr<SandboxProcess>> Spawn(const SpawnRequest& request) override;
  Result<nlohmann::json> RunOperation(const std::string& op, const nlohmann::json& request,
                                      const std::atomic<bool>* cancel) override;
  void Close() override;
  bool alive() const override { return !closed_.load(); }

 private:
  Policy policy_;
  EnforcementReport report_;
  ElevatedSessionParts parts_;
  std::atomic<bool> closed_{false};
  std::shared_ptr<std::atomic<bool>> closed_flag_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace cordon::win
