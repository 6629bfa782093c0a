#include "sandbox/win/elevated_session.h"

#include "sandbox/win/command_env.h"
#include "sandbox/win/elevated_process.h"
#include "sandbox/win/runner_protocol.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

ElevatedSession::ElevatedSession(Policy policy, EnforcementReport report, ElevatedSessionParts parts)
    : JobSession(std::move(policy), std::move(report)), parts_(std::move(parts)) {}

Result<std::unique_ptr<SandboxProcess>> ElevatedSession::Spawn(const SpawnRequest& request) {
  auto cwd = CommandCwd(request);
  if (!cwd) return cwd.error();

  RunnerSpawn spawn;
  spawn.argv = request.argv;
  spawn.cwd = WideToUtf8(*cwd);
  spawn.env = CommandEnvironment(request.env, parts_.extra_env);
  spawn.tty = request.tty;
  spawn.cols = request.cols;
  spawn.rows = request.rows;
  spawn.stdin_pipe = request.stdin_pipe;
  spawn.timeout_ms = request.timeout_ms;
  spawn.capability_sid = parts_.capability_sid;
  // The session Job holds the policy's memory and process limits for the whole session; the
  // command's own job adds the per-process CPU time.
  spawn.cpu_seconds = policy().limits().cpu_seconds;
  spawn.profile_env = parts_.profile_env;
  spawn.private_desktop = parts_.private_desktop;

  auto conn = StartRunner(*parts_.launcher, parts_.runner_exe, parts_.job);
  if (!conn) return conn.error();
  auto proc = RunnerProcess::Start(std::move(conn).value(), spawn, closed_flag());
  if (!proc) return proc.error();
  return std::unique_ptr<SandboxProcess>(std::move(proc).value());
}

}  // namespace cordon::win
