// The seccomp-bpf layer, applied last in the worker pipeline. A deny list over the kernel's
// attack surface and cross-process reach (Chromium baseline_policy style: each set named by
// intent with its reason in seccomp_policy.cc); everything else is left to namespaces,
// mounts, Landlock and the Job. Compile once per (network, stage) in the broker or worker,
// then load the ready program in each freshly forked child with no libseccomp work.
#pragma once

#include <linux/filter.h>

#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon {

enum class SeccompStage {
  // The session worker: as kCommand, but clone() may still pass CLONE_NEWPID (and no other
  // CLONE_NEW* flag), because the worker starts each command as init of a fresh PID namespace.
  kWorker,
  // A command and everything it forks: no namespace creation at all.
  kCommand,
  // What a command adds on top of the worker filter it inherits: only the CLONE_NEWPID the
  // worker still allows. Filters stack (the strictest answer wins), so worker + this delta
  // equals kCommand, and a short program loads in ~15 us where the full one costs ~480 us.
  kCommandDelta,
};

// Denied syscalls fail with EPERM; clone3 fails with ENOSYS so that libc falls back to clone,
// whose flags the filter can inspect. Syscalls of another ABI (i386 int 0x80, x32) kill the
// process: they would bypass every rule written for the native numbers.
Result<std::vector<sock_filter>> CompileSeccomp(NetworkMode network, SeccompStage stage);

// Installs `program` on the calling thread: sets no_new_privs if it is not set yet, then
// seccomp(SECCOMP_SET_MODE_FILTER) (prctl on kernels without the seccomp syscall). Makes only
// raw syscalls and allocates only when it fails, so it suits a child between fork and exec.
Status LoadSeccomp(const std::vector<sock_filter>& program);

}  // namespace cordon
