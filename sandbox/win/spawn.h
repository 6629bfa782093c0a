// Starting a command inside the session's sandbox, in the order that leaves no window:
// CreateProcessAsUserW(restricted token, CREATE_SUSPENDED) -> AssignProcessToJobObject ->
// ResumeThread. If the assignment fails the process is terminated before it ran an
// instruction (fail closed). Only the command's own pipe ends are inherited
// (PROC_THREAD_ATTRIBUTE_HANDLE_LIST); with a pseudo console nothing is inherited.
// Known gap under Wine only: Wine ignores the handle list (spawns are serialised here so at
// least our own concurrent spawns cannot leak pipe ends into each other).
#pragma once

#include <windows.h>

#include <string>
#include <vector>

#include "sandbox/status.h"
#include "sandbox/win/job.h"
#include "sandbox/win/scoped_handle.h"

namespace cordon::win {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is found by CreateProcess's own search rules
  std::wstring cwd;               // empty: the worker's cwd
  std::vector<std::string> env;   // "NAME=value"; the complete environment of the command
  HANDLE token = nullptr;         // restricted token; nullptr: the worker's own token
  const Job* job = nullptr;       // required: a command never runs outside a job
  const Job* inner_job = nullptr; // optional per-command job, nested in `job` (tree kill)
  std::wstring desktop;           // "winsta\\desktop"; empty: inherit
  bool stdin_pipe = false;        // false: stdin is NUL
  HPCON pseudo_console = nullptr; // set: stdio is the pseudo console (tty: true)
};

struct SpawnedProcess {
  ScopedHandle process;
  DWORD pid = 0;
  ScopedHandle stdin_write;   // overlapped; empty unless stdin_pipe
  ScopedHandle stdout_read;   // overlapped; empty with a pseudo console
  ScopedHandle stderr_read;   // overlapped; empty with a pseudo console
};

Result<SpawnedProcess> Spawn(const SpawnOptions& options);

// Waits for exit; kCancelled-free: timeout yields kLimitExceeded.
Result<DWORD> WaitForExit(HANDLE process, DWORD timeout_ms);

}  // namespace cordon::win
