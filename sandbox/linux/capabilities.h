// Dropping every capability for good, in the worker's command children (and the worker itself
// once its namespaces and mounts are built). Works for uid 0 inside a user namespace, where the
// process holds a full set until it drops it, and for an unprivileged uid that holds none.
#pragma once

#include "sandbox/status.h"

namespace cordon {

// In order: lock the securebits (no root magic on exec, no setuid fixups, no keep-caps, no
// ambient raise, all locked) when the caller holds CAP_SETPCAP; clear the bounding set (same
// condition); clear the ambient set; capset effective/permitted/inheritable to zero; set
// no_new_privs. Then verifies that no capability is left in any set it could clear.
//
// A caller without CAP_SETPCAP (an unprivileged uid outside any user namespace) cannot touch
// the securebits or the bounding set; it holds no capability and no_new_privs makes execve
// unable to grant one (setuid bits and file capabilities are ignored), so that is not a gap.
// PR_SET_DUMPABLE is the caller's business. Raw syscalls; allocates only when it fails.
Status DropAllCapabilities();

}  // namespace cordon
