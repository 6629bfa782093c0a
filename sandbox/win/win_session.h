// A Windows session (SandboxSession): the restricted token for its workspace, the ACEs that
// confine that token's writes (applied incrementally through AclManager), an alternate
// desktop and the session Job. Commands are started by the server process straight into the
// session Job (the design's unelevated mode has no separate worker process; the Job and the
// token are the boundary). File operations run the shared ops/ code in the server process,
// impersonating the session's token (win_file_ops.h).
#pragma once

#include <atomic>
#include <memory>
#include <optional>

#include "sandbox/session.h"
#include "sandbox/win/desktop.h"
#include "sandbox/win/job.h"
#include "sandbox/win/restricted_token.h"

namespace cordon::win {

struct WinSessionParts {
  std::optional<RestrictedToken> token;  // empty: danger-full-access
  std::optional<AlternateDesktop> desktop;
  Job job;
  std::vector<std::pair<std::string, std::string>> extra_env;  // advisory network variables
};

class WinSession final : public SandboxSession {
 public:
  WinSession(Policy policy, EnforcementReport report, WinSessionParts parts);
  ~WinSession() override;

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
  WinSessionParts parts_;
  std::atomic<bool> closed_{false};
};

// Variables Windows programs need to start at all (SystemRoot, COMSPEC, PATHEXT, TEMP ...),
// taken from the server's environment when the request's environment lacks them. They carry
// no secrets; without SystemRoot even cmd.exe fails to load some DLLs.
std::vector<std::string> WithWindowsEssentials(std::vector<std::string> env);

}  // namespace cordon::win
