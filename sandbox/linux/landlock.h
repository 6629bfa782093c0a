// Landlock: the second, independent filesystem and network layer under the mount plan.
// The worker calls ApplyLandlock once, after its mounts and before seccomp; every command it
// forks inherits the domain. Rights the running kernel's ABI lacks are dropped (best effort,
// as the Landlock documentation recommends); an ABI of 0 is an error only when required.
//
// Known limit: Landlock rules only add access, so "writable root except .git" and "readable
// everywhere except ~/.ssh" cannot be expressed here. Protected paths inside writable roots and
// read-denied paths are enforced by the mount layer (read-only bind mounts, empty tmpfs), not
// by Landlock.
#pragma once

#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon {

struct LandlockRules {
  // Readable and executable (files: read + execute; directories: also list).
  std::vector<std::string> read_only;
  // Every filesystem right of the ABI: read, write, create and remove entries of every kind,
  // rename/link across directories (refer), truncate and device ioctls.
  std::vector<std::string> read_write;
  // ABI >= 4: handle TCP bind and connect with no rule allowing them, so both fail with
  // EACCES. UDP and other protocols are outside Landlock; seccomp and the network namespace
  // cover them.
  bool deny_tcp = true;
  // ABI >= 6: no connecting to abstract unix sockets created outside the domain and no signals
  // to processes outside it (the server, other sessions).
  bool scope_ipc = true;
  // Fail with kUnsupported when the kernel has no Landlock at all.
  bool required = true;
};

// Restricts the calling thread (and, through inheritance, everything it later forks or
// executes) to `rules`. `abi` is HostFeatures::landlock_abi. Sets no_new_privs, which
// landlock_restrict_self requires of an unprivileged caller. Paths that do not exist are
// skipped: leaving them out only ever removes access. Only affects the calling thread: call it
// single-threaded (the worker does, before it starts threads).
Status ApplyLandlock(const LandlockRules& rules, int abi);

// Rules for a policy: the whole filesystem read-only (read-deny is the mount layer's job),
// the writable roots plus `extra_rw` read-write (e.g. the private /tmp, /dev/shm, and the
// device nodes /dev/null /dev/zero /dev/full /dev/tty /dev/ptmx /dev/pts), TCP denied when
// the network is off, IPC scoping always on.
LandlockRules RulesForPolicy(const Policy& policy, const std::vector<std::string>& extra_rw);

// The filesystem rights Landlock knows at `abi` (0 when abi <= 0), for tests and diagnostics.
uint64_t LandlockFsRights(int abi);

}  // namespace cordon
