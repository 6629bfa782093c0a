#include "sandbox/linux/landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

#include "sandbox/unique_fd.h"

// The distribution's uapi header may predate the running kernel; these values are ABI.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)  // ABI 3
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)  // ABI 5
#endif
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)  // ABI 4
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)  // ABI 6
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

namespace cordon {
namespace {

// struct landlock_ruleset_attr as of ABI 6. The kernel accepts a shorter size from older
// callers, so the size passed is cut to the fields the running ABI knows.
struct RulesetAttr {
  uint64_t handled_access_fs = 0;
  uint64_t handled_access_net = 0;  // ABI 4
  uint64_t scoped = 0;              // ABI 6
};

constexpr uint64_t kReadRights =
    LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// The rights that mean something on a non-directory; others make landlock_add_rule fail.
constexpr uint64_t kFileRights = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                 LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE |
                                 LANDLOCK_ACCESS_FS_IOCTL_DEV;

size_t AttrSize(int abi) {
  if (abi >= 6) return sizeof(RulesetAttr);
  if (abi >= 4) return offsetof(RulesetAttr, scoped);
  return offsetof(RulesetAttr, handled_access_net);
}

Status AddPathRule(int ruleset_fd, const std::string& path, uint64_t access) {
  UniqueFd fd(open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return OkStatus();  // nothing to grant
    return ErrnoError(ErrorKind::kSandboxFailed, "landlock: open " + path, errno);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "landlock: fstat " + path, errno);
  }
  if (!S_ISDIR(st.st_mode)) access &= kFileRights;
  landlock_path_beneath_attr attr{};
  attr.allowed_access = access;
  attr.parent_fd = fd.get();
  if (syscall(__NR_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &attr, 0) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "landlock_add_rule " + path, errno);
  }
  return OkStatus();
}

}  // namespace

uint64_t LandlockFsRights(int abi) {
  if (abi <= 0) return 0;
  uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;  // ABI 1: execute .. make_sym
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

Status ApplyLandlock(const LandlockRules& rules, int abi) {
  if (abi <= 0) {
    if (!rules.required) return OkStatus();
    return MakeError(ErrorKind::kUnsupported,
                     "Landlock is not available on this kernel, and the policy requires it");
  }
  RulesetAttr attr;
  attr.handled_access_fs = LandlockFsRights(abi);
  if (abi >= 4 && rules.deny_tcp) {
    // Handled with no rule granting a port: every TCP bind and connect is denied.
    attr.handled_access_net = LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
  }
  if (abi >= 6 && rules.scope_ipc) {
    attr.scoped = LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | LANDLOCK_SCOPE_SIGNAL;
  }
  UniqueFd ruleset(
      static_cast<int>(syscall(__NR_landlock_create_ruleset, &attr, AttrSize(abi), 0)));
  if (!ruleset) return ErrnoError(ErrorKind::kSandboxFailed, "landlock_create_ruleset", errno);

  for (const std::string& path : rules.read_only) {
    if (Status s = AddPathRule(ruleset.get(), path, kReadRights & attr.handled_access_fs); !s) {
      return s;
    }
  }
  for (const std::string& path : rules.read_write) {
    if (Status s = AddPathRule(ruleset.get(), path, attr.handled_access_fs); !s) return s;
  }
  // An unprivileged process may only restrict itself once it can never gain privileges.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }
  if (syscall(__NR_landlock_restrict_self, ruleset.get(), 0) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "landlock_restrict_self", errno);
  }
  return OkStatus();
}

LandlockRules RulesForPolicy(const Policy& policy, const std::vector<std::string>& extra_rw) {
  LandlockRules rules;
  rules.read_only = {"/"};
  rules.read_write = policy.writable_roots();
  rules.read_write.insert(rules.read_write.end(), extra_rw.begin(), extra_rw.end());
  rules.deny_tcp = policy.network() == NetworkMode::kNone;
  rules.scope_ipc = true;
  rules.required = !policy.allow_degraded();
  return rules;
}

}  // namespace cordon
