// The server's side of starting cordon-runner.exe: its two pipes (DACL: the server's user and
// the runner's user only), the launcher that starts it as a sandbox user
// (CreateProcessWithLogonW) or, for tests and where the logon cannot run, as the current user,
// and the connection handshake. A runner is started suspended, put in the session's Job
// (kill-on-close) and only then resumed, so nothing it does escapes the session.
#pragma once

#include <windows.h>

#include <memory>
#include <string>

#include "sandbox/status.h"
#include "sandbox/win/job.h"
#include "sandbox/win/sandbox_users.h"
#include "sandbox/win/scoped_handle.h"

namespace cordon::win {

struct RunnerPipes {
  ScopedHandle to_runner;    // server end of the runner's input, overlapped
  ScopedHandle from_runner;  // server end of the runner's output, overlapped
  std::wstring in_name;      // the runner's --pipe-in
  std::wstring out_name;     // the runner's --pipe-out
};

// Single-instance pipes under \\.\pipe\cordon-runner-*, remote clients rejected. The DACL is
// protected and names only the server's own user (full) and `peer_sid` (read/write); with an
// empty peer_sid, only the server's user. A sandboxed command (write-restricted token) cannot
// open them for writing: none of its restricting SIDs is granted.
Result<RunnerPipes> CreateRunnerPipes(const std::string& peer_sid);

struct LaunchedRunner {
  ScopedHandle process;
  ScopedHandle thread;  // the suspended main thread
  DWORD pid = 0;
};

class RunnerLauncher {
 public:
  virtual ~RunnerLauncher() = default;
  // Starts `exe` with `args` suspended.
  virtual Result<LaunchedRunner> Launch(const std::wstring& exe, const std::wstring& args) = 0;
  // The SID the runner runs as (granted on its pipes); empty: the server's own user.
  virtual std::string RunnerSid() const = 0;
};

// CreateProcessWithLogonW(user, ".", password, LOGON_WITH_PROFILE) with the user's own
// environment. Wine's CreateProcessWithLogonW is a stub that fails (error 6).
std::unique_ptr<RunnerLauncher> MakeLogonLauncher(SandboxCredential credential, std::string user_sid);
// CreateProcessW as the current user: the runner's protocol and job handling without the
// identity change (tests; hosts where the logon cannot be exercised).
std::unique_ptr<RunnerLauncher> MakeCurrentUserLauncher();

struct RunnerConnection {
  LaunchedRunner runner;
  RunnerPipes pipes;
};

// Creates the pipes, launches the runner, assigns it to `job` (required), resumes it and waits
// (at most timeout_ms, and no longer than the runner lives) for it to connect both pipes. The
// connected client must be the launched process (GetNamedPipeClientProcessId).
Result<RunnerConnection> StartRunner(RunnerLauncher& launcher, const std::wstring& runner_exe, const Job& job,
                                     DWORD timeout_ms = 30000);

// cordon-runner.exe next to the running executable.
std::wstring DefaultRunnerPath();

}  // namespace cordon::win
