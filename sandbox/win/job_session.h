// What the two Windows session kinds (win_session.h, elevated_session.h) have in common: the
// policy and report they were built for, a closed flag, file operations run in the server
// process under the session's restricted token (win_file_ops.h), and Close ending the session
// Job that every command lives in. A subclass says only how a command starts.
#pragma once

#include <windows.h>

#include <atomic>
#include <memory>
#include <string>

#include "sandbox/session.h"
#include "sandbox/win/job.h"

namespace cordon::win {

class JobSession : public SandboxSession {
 public:
  const Policy& policy() const final { return policy_; }
  const EnforcementReport& enforcement() const final { return report_; }
  Result<nlohmann::json> RunOperation(const std::string& op, const nlohmann::json& request,
                                      const std::atomic<bool>* cancel) final;
  // Idempotent. Ending the session Job ends every command (each command's own job is nested
  // in it).
  void Close() final;
  bool alive() const final { return !closed_->load(); }

 protected:
  JobSession(Policy policy, EnforcementReport report);
  // A subclass's destructor calls Close(): the Job it ends belongs to the subclass.
  ~JobSession() override = default;

  // What every spawn checks first - the session is open, argv is not empty, the working
  // directory (the first workspace root when the request names none) is readable under the
  // policy and exists - and that directory's Windows path.
  Result<std::wstring> CommandCwd(const SpawnRequest& request) const;

  // Set when Close begins. Shared, so a command that outlives the session object can tell an
  // end by Close from a crash.
  std::shared_ptr<const std::atomic<bool>> closed_flag() const { return closed_; }

 private:
  virtual Job& session_job() = 0;
  // The token file operations impersonate; nullptr: none (danger-full-access).
  virtual HANDLE ops_token() const = 0;

  Policy policy_;
  EnforcementReport report_;
  std::shared_ptr<std::atomic<bool>> closed_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace cordon::win
