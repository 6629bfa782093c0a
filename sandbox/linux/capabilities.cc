#include "sandbox/linux/capabilities.h"

#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace cordon {
namespace {

// Every securebit that makes uid 0 ordinary, each with its lock: exec as uid 0 grants no
// capabilities (NOROOT), uid changes do not adjust capability sets (NO_SETUID_FIXUP),
// capabilities do not survive a uid change (KEEP_CAPS off, locked) and nothing can be raised
// into the ambient set (NO_CAP_AMBIENT_RAISE).
constexpr unsigned long kLockedSecurebits =
    SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | SECBIT_NO_SETUID_FIXUP_LOCKED |
    SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;

struct CapSets {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
};

bool GetCaps(CapSets& caps) { return syscall(SYS_capget, &caps.header, caps.data) == 0; }

bool AnyCapability(const CapSets& caps) {
  for (const auto& d : caps.data) {
    if (d.effective || d.permitted || d.inheritable) return true;
  }
  return false;
}

// CAP_LAST_CAP of the running kernel, which may be newer than our headers.
int LastCap() {
  int cap = 0;
  while (cap < 64 && prctl(PR_CAPBSET_READ, cap + 1, 0, 0, 0) >= 0) ++cap;
  return cap;
}

}  // namespace

Status DropAllCapabilities() {
  CapSets caps;
  if (!GetCaps(caps)) return ErrnoError(ErrorKind::kSandboxFailed, "capget", errno);
  const bool has_setpcap = caps.data[CAP_SETPCAP / 32].effective & (1u << (CAP_SETPCAP % 32));

  if (has_setpcap) {
    int current = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    if (current < 0) return ErrnoError(ErrorKind::kSandboxFailed, "PR_GET_SECUREBITS", errno);
    if ((static_cast<unsigned long>(current) & kLockedSecurebits) != kLockedSecurebits &&
        prctl(PR_SET_SECUREBITS, kLockedSecurebits, 0, 0, 0) != 0) {
      return ErrnoError(ErrorKind::kSandboxFailed, "PR_SET_SECUREBITS", errno);
    }
    // The bounding set caps what any later execve could grant.
    for (int cap = 0, last = LastCap(); cap <= last; ++cap) {
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1 && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
        return ErrnoError(ErrorKind::kSandboxFailed, "PR_CAPBSET_DROP", errno);
      }
    }
  }
  // EINVAL: a kernel older than ambient capabilities (4.3), which therefore has none.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
    return ErrnoError(ErrorKind::kSandboxFailed, "PR_CAP_AMBIENT_CLEAR_ALL", errno);
  }
  CapSets none;
  if (syscall(SYS_capset, &none.header, none.data) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "capset", errno);
  }
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }

  // Fail closed if anything is left behind.
  CapSets after;
  if (!GetCaps(after)) return ErrnoError(ErrorKind::kSandboxFailed, "capget", errno);
  if (AnyCapability(after)) {
    return MakeError(ErrorKind::kSandboxFailed, "capabilities still held after capset(0)");
  }
  if (has_setpcap) {
    for (int cap = 0, last = LastCap(); cap <= last; ++cap) {
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) {
        return MakeError(ErrorKind::kSandboxFailed, "bounding set still holds a capability");
      }
    }
  }
  return OkStatus();
}

}  // namespace cordon
