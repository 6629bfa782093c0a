// Per-command resource limits, set in the command's child between fork and exec. They bound
// one process (CPU seconds, file size, open files, no core dumps); memory and process count are
// per session when a cgroup enforces them, and fall back to per-process/per-uid rlimits here.
#pragma once

#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon {

// Sets RLIMIT_CPU (cpu_seconds; SIGXCPU at the soft limit, SIGKILL one second later),
// RLIMIT_FSIZE (max_file_bytes), RLIMIT_NOFILE (max_open_files) and RLIMIT_CORE = 0 (a core
// dump could write the command's memory outside its writable roots, and costs disk). When no
// cgroup enforces memory and pids, also RLIMIT_AS (memory_bytes, per process) and RLIMIT_NPROC
// (max_processes, counted per uid). A zero limit means "leave unlimited". A limit is never
// raised above the current hard limit: an unprivileged caller cannot, and the lower one wins.
// Raw syscalls only; allocates only when it fails.
Status ApplyCommandRlimits(const ResourceLimits& limits, bool cgroup_enforces_memory_and_pids);

// What the rlimit fallback does not enforce, in the words sandbox/info reports ("" for none).
std::vector<std::string> RlimitDegradations(const ResourceLimits& limits,
                                            bool cgroup_enforces_memory_and_pids);

}  // namespace cordon
