#include "sandbox/win/win_session.h"

#include "sandbox/win/command_env.h"
#include "sandbox/win/conpty.h"
#include "sandbox/win/win_process.h"

namespace cordon::win {

WinSession::WinSession(Policy policy, EnforcementReport report, WinSessionParts parts)
    : JobSession(std::move(policy), std::move(report)), parts_(std::move(parts)) {}

Result<std::unique_ptr<SandboxProcess>> WinSession::Spawn(const SpawnRequest& request) {
  auto cwd = CommandCwd(request);
  if (!cwd) return cwd.error();

  auto inner = Job::Create(JobLimits{0, 0, policy().limits().cpu_seconds, 0, false});
  if (!inner) return inner.error();
  std::optional<PseudoConsole> pty;
  if (request.tty) {
    auto created = PseudoConsole::Create(request.cols, request.rows);
    if (!created) return created.error();
    pty = std::move(created).value();
  }
  SpawnOptions opts;
  opts.argv = request.argv;
  opts.cwd = *cwd;
  opts.env = CommandEnvironment(request.env, parts_.extra_env);
  opts.token = parts_.token ? parts_.token->token.get() : nullptr;
  opts.job = &parts_.job;
  opts.inner_job = &*inner;
  if (parts_.desktop) opts.desktop = parts_.desktop->name();
  opts.stdin_pipe = request.stdin_pipe;
  if (pty) opts.pseudo_console = pty->handle();
  auto proc = win::Spawn(opts);
  if (!proc) return proc.error();
  return std::unique_ptr<SandboxProcess>(
      std::make_unique<WinProcess>(std::move(proc).value(), std::move(inner).value(), std::move(pty), request.timeout_ms));
}

}  // namespace cordon::win
