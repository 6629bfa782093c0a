// The worker: built once per session, PID 1 of the session's PID namespace. It receives its
// init message, confines itself (mounts, hostname, Landlock, seccomp, no capabilities but
// CAP_SYS_ADMIN of its own user namespace, non-dumpable), reports ready, and then serves spawn
// and file-operation requests from the broker until the control socket closes - at which point
// it exits and the kernel kills everything left in the namespace.
#pragma once

namespace cordon::linux_sandbox {

// Runs the worker on `control_fd` (fd 3 of cordon-worker). Returns the process exit code.
int RunWorker(int control_fd);

}  // namespace cordon::linux_sandbox
