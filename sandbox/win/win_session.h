// A Windows session (SandboxSession): the restricted token for its workspace, the ACEs that
// confine that token's writes (applied incrementally through AclManager), an alternate
// desktop and the session Job. Commands are started by the server process straight into the
// session Job (the design's unelevated mode has no separate worker process; the Job and the
// token are the boundary). File operations run the shared ops/ code in the server process,
// impersonating the session's token (win_file_ops.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sandbox/win/desktop.h"
#include "sandbox/win/job.h"
#include "sandbox/win/job_session.h"
#include "sandbox/win/restricted_token.h"

namespace cordon::win {

struct WinSessionParts {
  std::optional<RestrictedToken> token;  // empty: danger-full-access
  std::optional<AlternateDesktop> desktop;
  Job job;
  std::vector<std::pair<std::string, std::string>> extra_env;  // advisory network variables
};

class WinSession final : public JobSession {
 public:
  WinSession(Policy policy, EnforcementReport report, WinSessionParts parts);
  ~WinSession() override { Close(); }

  Result<std::unique_ptr<SandboxProcess>> Spawn(const SpawnRequest& request) override;

 private:
  Job& session_job() override { return parts_.job; }
  HANDLE ops_token() const override { return parts_.token ? parts_.token->token.get() : nullptr; }

  WinSessionParts parts_;
};

}  // namespace cordon::win
