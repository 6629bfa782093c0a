// The body of cordon-runner.exe (elevated mode): started by the server as a sandbox user (or,
// in tests, as the current user), it reads one spawn request from its input pipe, derives the
// write-restricted capability token from its *own* token, starts the command in a job of its
// own (kill-on-close, the policy's limits), streams output and the exit back, and obeys
// stdin/resize/terminate frames. Closing the input pipe is the stop signal: the runner ends
// the job and terminates itself, so nothing it started outlives the server's interest in it.
#pragma once

#include <windows.h>

namespace cordon::win {

// Runs one command to completion over the two pipes; returns the runner's exit code (0 after a
// reported exit, 2 when the request was refused, 3 on a pipe failure).
int RunRunner(HANDLE from_server, HANDLE to_server);

}  // namespace cordon::win
