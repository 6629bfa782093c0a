// The escape probe: one binary that attempts exactly one action named on its command line and
// reports the outcome through its exit code, so the escape tests can run the same attempt inside
// a sandbox (where it must be DENIED) and under a policy or place that allows it (SUCCEEDED).
#pragma once

#include <string>
#include <vector>

namespace cordon::escape_probe {

enum Outcome : int { kSucceeded = 0, kDenied = 1, kProbeError = 2 };

using Args = std::vector<std::string>;

// Reports a failed attempt: DENIED for errnos that mean "not allowed / not reachable", otherwise
// a probe error (with the errno on stderr) so a broken probe can never pass as a denial.
Outcome Failed(const char* what, int err);
// True for errnos that a confinement layer produces (EPERM, EACCES, EROFS, ENOENT, ...).
bool IsDenialErrno(int err);

// Filesystem, processes and resources (probe.cc).
Outcome RunFsAction(const std::string& action, const Args& args, bool* known);
// Network, IPC, terminals and kernel attack surface (probe_kernel.cc).
Outcome RunKernelAction(const std::string& action, const Args& args, bool* known);

}  // namespace cordon::escape_probe
