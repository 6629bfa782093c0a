// The worker's view of the filesystem, built inside its own mount namespace (step 3 of the
// Linux pipeline): the host root re-bound read-only, writable roots bound read-write,
// protected paths bound back read-only, read-denied paths covered, a fresh /proc, a minimal
// /dev with its own devpts, a private /tmp, nosuid everywhere. Runs with CAP_SYS_ADMIN in the
// worker's user namespace only; any failure aborts the worker (fail closed).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon::linux_sandbox {

struct MountPlan {
  bool full_access = false;                 // danger-full-access: "/" stays writable
  std::vector<std::string> writable_roots;  // absolute, resolved
  std::vector<std::string> protected_paths;
  std::vector<std::string> read_deny;
  uint64_t tmp_bytes = 256ull << 20;
  bool hide_run = true;                     // cover /run (host daemons' sockets) with a tmpfs
  bool keep_resolver = false;               // with network: keep /run/systemd/resolve visible
};

Status ApplyMountPlan(const MountPlan& plan);

}  // namespace cordon::linux_sandbox
