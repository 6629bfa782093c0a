#include "sandbox/win/job_session.h"

#include "sandbox/win/path_guard.h"
#include "sandbox/win/win_file_ops.h"

namespace cordon::win {

JobSession::JobSession(Policy policy, EnforcementReport report)
    : policy_(std::move(policy)), report_(std::move(report)) {}

Result<std::wstring> JobSession::CommandCwd(const SpawnRequest& request) const {
  if (closed_->load()) return MakeError(ErrorKind::kSandboxFailed, "session is closed");
  if (request.argv.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty argv");
  std::string cwd_path = request.cwd.empty() ? policy_.workspace_roots()[0] : request.cwd;
  auto cwd = ResolveForPolicy(policy_, cwd_path, PathAccess::kRead);
  if (!cwd) return cwd.error();
  if (!cwd->exists) return MakeError(ErrorKind::kNotFound, "cwd does not exist: " + cwd_path);
  return std::move(cwd->windows_path);
}

Result<nlohmann::json> JobSession::RunOperation(const std::string& op, const nlohmann::json& request,
                                                const std::atomic<bool>* cancel) {
  if (closed_->load()) return MakeError(ErrorKind::kSandboxFailed, "session is closed");
  return RunFileOperation(policy_, ops_token(), op, request, cancel);
}

void JobSession::Close() {
  if (closed_->exchange(true)) return;
  (void)session_job().Terminate(1);
}

}  // namespace cordon::win
