// An elevated-mode session (SandboxSession): each command is started by its own
// cordon-runner.exe, launched as the sandbox user (offline when the network is off) inside the
// session's Job; the runner derives the write-restricted capability token from the sandbox
// user's token, so a command holds neither the developer's identity nor unrestricted writes.
// File operations run in the server as in unelevated mode (the server's restricted token,
// impersonated) - the sandbox user's identity applies to commands.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/win/job.h"
#include "sandbox/win/job_session.h"
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

class ElevatedSession final : public JobSession {
 public:
  ElevatedSession(Policy policy, EnforcementReport report, ElevatedSessionParts parts);
  // Close ends the session Job: the runners are in it, and their jobs' kill-on-close end the
  // commands (which are in this Job too, nested).
  ~ElevatedSession() override { Close(); }

  Result<std::unique_ptr<SandboxProcess>> Spawn(const SpawnRequest& request) override;

 private:
  Job& session_job() override { return parts_.job; }
  HANDLE ops_token() const override { return parts_.ops_token ? parts_.ops_token->token.get() : nullptr; }

  ElevatedSessionParts parts_;
};

}  // namespace cordon::win
