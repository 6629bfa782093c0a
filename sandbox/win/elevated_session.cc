#include "sandbox/win/elevated_session.h"

#include <algorithm>

#include "sandbox/win/elevated_process.h"
#include "sandbox/win/path_guard.h"
#include "sandbox/win/runner_protocol.h"
#include "sandbox/win/win_file_ops.h"
#include "sandbox/win/win_session.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

ElevatedSession::ElevatedSession(Policy policy, EnforcementReport report, ElevatedSessionParts parts)
    : policy_(std::move(policy)), report_(std::move(report)), parts_(std::move(parts)) {}

ElevatedSession::~ElevatedSession() { Close(); }

Result<std::unique_ptr<SandboxProcess>> ElevatedSession::Spawn(const SpawnRequest& request) {
  if (closed_) return MakeError(ErrorKind::kSandboxFailed, "session is closed");
  if (request.argv.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty argv");
  std::string cwd_path = request.cwd.empty() ? policy_.workspace_roots()[0] : request.cwd;
  auto cwd = ResolveForPolicy(policy_, cwd_path, PathAccess::kRead);
  if (!cwd) return cwd.error();
  if (!cwd->exists) return MakeError(ErrorKind::kNotFound, "cwd does not exist: " + cwd_path);

  RunnerSpawn spawn;
  spawn.argv = request.argv;
  spawn.cwd = WideToUtf8(cwd->windows_path);
  spawn.env = WithWindowsEssentials(request.env);
  for (const auto& [k, v] : parts_.extra_env) {
    std::string prefix = AsciiLower(k + "=");
    bool has = std::any_of(spawn.env.begin(), spawn.env.end(),
                           [&](const std::string& e) { return AsciiLower(e.substr(0, prefix.size())) == prefix; });
    if (!has) spawn.env.push_back(k + "=" + v);
  }
  spawn.tty = request.tty;
  spawn.cols = request.cols;
  spawn.rows = request.rows;
  spawn.stdin_pipe = request.stdin_pipe;
  spawn.timeout_ms = request.timeout_ms;
  spawn.capability_sid = parts_.capability_sid;
  // The session Job holds the policy's memory and process limits for the whole session; the
  // command's own job adds the per-process CPU time.
  spawn.cpu_seconds = policy_.limits().cpu_seconds;
  spawn.profile_env = parts_.profile_env;
  spawn.private_desktop = parts_.private_desktop;

  auto conn = StartRunner(*parts_.launcher, parts_.runner_exe, parts_.job);
  if (!conn) return conn.error();
  auto proc = RunnerProcess::Start(std::move(conn).value(), spawn, closed_flag_);
  if (!proc) return proc.error();
  return std::unique_ptr<SandboxProcess>(std::move(proc).value());
}

Result<nlohmann::json> ElevatedSession::RunOperation(const std::string& op, const nlohmann::json& request,
                                                     const std::atomic<bool>* cancel) {
  if (closed_) return MakeError(ErrorKind::kSandboxFailed, "session is closed");
  return RunFileOperation(policy_, parts_.ops_token ? parts_.ops_token->token.get() : nullptr, op, request, cancel);
}

void ElevatedSession::Close() {
  if (closed_.exchange(true)) return;
  closed_flag_->store(true);
  // Runners are in the session Job: ending it ends them, and their jobs' kill-on-close the
  // commands (which are in this Job too, nested).
  (void)parts_.job.Terminate(1);
}

}  // namespace cordon::win
