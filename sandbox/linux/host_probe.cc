#include "sandbox/linux/host_probe.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

#include "sandbox/unique_fd.h"

namespace cordon {
namespace {

std::string ReadTrimmed(const char* path) {
  std::ifstream in(path);
  std::string value;
  if (!(in >> value)) return "";
  return value;
}

void ProbeLandlock(HostFeatures& host) {
  long abi = syscall(__NR_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi > 0) {
    host.landlock_abi = static_cast<int>(abi);
    return;
  }
  int err = errno;
  if (err == ENOSYS) {
    host.landlock_reason =
        "kernel built without Landlock (CONFIG_SECURITY_LANDLOCK, Linux >= 5.13)";
  } else if (err == EOPNOTSUPP) {
    host.landlock_reason =
        "Landlock is built but disabled: add \"landlock\" to the lsm= boot parameter";
  } else {
    host.landlock_reason = std::string("landlock_create_ruleset: ") + std::strerror(err);
  }
}

// Stages of the namespace probe child; the child reports the first one that failed.
enum ProbeStage : int {
  kUnshareUser = 1,
  kSetgroups,
  kUidMap,
  kGidMap,
  kUnshareMount,
  kMountPrivate,
  kUnshareNet,
};

struct ProbeReport {
  int stage = 0;  // 0 = user namespace fully usable
  int err = 0;
  int net_err = 0;  // errno of unshare(CLONE_NEWNET), 0 when it worked
};

const char* StageName(int stage) {
  switch (stage) {
    case kUnshareUser:
      return "unshare(CLONE_NEWUSER)";
    case kSetgroups:
      return "write /proc/self/setgroups";
    case kUidMap:
      return "write /proc/self/uid_map";
    case kGidMap:
      return "write /proc/self/gid_map";
    case kUnshareMount:
      return "unshare(CLONE_NEWNS) inside the user namespace";
    case kMountPrivate:
      return "mount(MS_PRIVATE) inside the user namespace";
    default:
      return "namespace probe";
  }
}

// Only async-signal-safe calls: the parent may have other threads.
bool WriteAll(const char* path, const char* text, size_t len) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, text, len) == static_cast<ssize_t>(len);
  close(fd);
  return ok;
}

[[noreturn]] void NamespaceProbeChild(int report_fd, const std::string& uid_map,
                                      const std::string& gid_map) {
  ProbeReport report;
  auto fail = [&](int stage) {
    report.stage = stage;
    report.err = errno;
    (void)!write(report_fd, &report, sizeof report);
    _exit(1);
  };
  if (unshare(CLONE_NEWUSER) != 0) fail(kUnshareUser);
  // "deny" is required before an unprivileged gid_map write; absent on very old kernels.
  if (!WriteAll("/proc/self/setgroups", "deny", 4) && errno != ENOENT) fail(kSetgroups);
  if (!WriteAll("/proc/self/uid_map", uid_map.data(), uid_map.size())) fail(kUidMap);
  if (!WriteAll("/proc/self/gid_map", gid_map.data(), gid_map.size())) fail(kGidMap);
  // Holding CAP_SYS_ADMIN in the new namespace is what the mount plan needs; AppArmor's
  // userns restriction lets unshare succeed but takes these capabilities away.
  if (unshare(CLONE_NEWNS) != 0) fail(kUnshareMount);
  if (mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) fail(kMountPrivate);
  report.net_err = unshare(CLONE_NEWNET) == 0 ? 0 : errno;
  (void)!write(report_fd, &report, sizeof report);
  _exit(0);
}

std::string UserNamespaceHint() {
  std::string hint;
  if (ReadTrimmed("/proc/sys/user/max_user_namespaces") == "0") {
    hint += "; user.max_user_namespaces is 0";
  }
  if (getuid() != 0 && ReadTrimmed("/proc/sys/kernel/unprivileged_userns_clone") == "0") {
    hint += "; kernel.unprivileged_userns_clone is 0 (set it to 1)";
  }
  if (getuid() != 0 &&
      ReadTrimmed("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == "1") {
    hint +=
        "; AppArmor restricts unprivileged user namespaces "
        "(kernel.apparmor_restrict_unprivileged_userns=1: give cordon a profile with "
        "\"userns,\" or set it to 0)";
  }
  return hint;
}

void ProbeNamespaces(HostFeatures& host) {
  std::string uid_map = "0 " + std::to_string(getuid()) + " 1\n";
  std::string gid_map = "0 " + std::to_string(getgid()) + " 1\n";
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    host.user_namespaces_reason = std::string("pipe: ") + std::strerror(errno);
    host.network_namespaces_reason = host.user_namespaces_reason;
    return;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  pid_t pid = fork();
  if (pid < 0) {
    host.user_namespaces_reason = std::string("fork: ") + std::strerror(errno);
    host.network_namespaces_reason = host.user_namespaces_reason;
    return;
  }
  if (pid == 0) NamespaceProbeChild(write_end.get(), uid_map, gid_map);
  write_end.reset();
  ProbeReport report;
  ssize_t n;
  do {
    n = read(read_end.get(), &report, sizeof report);
  } while (n < 0 && errno == EINTR);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof report)) {
    host.user_namespaces_reason = "namespace probe child died without reporting";
    host.network_namespaces_reason = host.user_namespaces_reason;
    return;
  }
  if (report.stage != 0) {
    host.user_namespaces_reason = std::string(StageName(report.stage)) + ": " +
                                  std::strerror(report.err) + UserNamespaceHint();
    host.network_namespaces_reason = "needs a user namespace";
    return;
  }
  host.user_namespaces = true;
  if (report.net_err == 0) {
    host.network_namespaces = true;
  } else {
    host.network_namespaces_reason =
        std::string("unshare(CLONE_NEWNET) inside the user namespace: ") +
        std::strerror(report.net_err);
  }
}

void ProbeSeccomp(HostFeatures& host) {
  int mode = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
  if (mode < 0) {
    host.seccomp_reason = "kernel built without seccomp (CONFIG_SECCOMP)";
    return;
  }
  host.seccomp_already_filtered = mode == 2;
  uint32_t action = SECCOMP_RET_ERRNO;
  if (syscall(__NR_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) != 0) {
    host.seccomp_reason = errno == EINVAL || errno == ENOSYS
                              ? "kernel without seccomp filters (CONFIG_SECCOMP_FILTER)"
                              : std::string("seccomp(GET_ACTION_AVAIL): ") + std::strerror(errno);
    return;
  }
  host.seccomp = true;
}

}  // namespace

HostFeatures ProbeHost() {
  HostFeatures host;
  struct utsname name {};
  if (uname(&name) == 0) host.kernel_release = name.release;
  ProbeLandlock(host);
  ProbeNamespaces(host);
  ProbeSeccomp(host);
  int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  host.no_new_privs = nnp >= 0;
  host.no_new_privs_set = nnp == 1;
  host.cgroup = ProbeCgroups();
  return host;
}

const HostFeatures& ProbeHostOnce() {
  static std::once_flag once;
  static HostFeatures* host = nullptr;
  std::call_once(once, [] { host = new HostFeatures(ProbeHost()); });
  return *host;
}

nlohmann::json ToJson(const HostFeatures& host) {
  nlohmann::json v1 = nlohmann::json::object();
  for (const auto& [controller, dir] : host.cgroup.v1_bases) v1[controller] = dir;
  nlohmann::json reasons = nlohmann::json::object();
  auto reason = [&](const char* key, const std::string& text) {
    if (!text.empty()) reasons[key] = text;
  };
  reason("landlock", host.landlock_reason);
  reason("userNamespaces", host.user_namespaces_reason);
  reason("networkNamespaces", host.network_namespaces_reason);
  reason("seccomp", host.seccomp_reason);
  reason("cgroup", host.cgroup.reason);
  return {
      {"landlockAbi", host.landlock_abi},
      {"userNamespaces", host.user_namespaces},
      {"cgroup", host.cgroup.Version()},
      {"seccomp", host.seccomp},
      {"kernel", host.kernel_release},
      {"networkNamespaces", host.network_namespaces},
      {"noNewPrivs", host.no_new_privs},
      {"seccompAlreadyFiltered", host.seccomp_already_filtered},
      {"cgroupDetail",
       {{"hybrid", host.cgroup.Hybrid()},
        {"v2Mount", host.cgroup.v2_mount},
        {"v2Base", host.cgroup.v2_base},
        {"v2Writable", host.cgroup.v2_writable},
        {"v2Controllers", host.cgroup.v2_controllers},
        {"v1", v1}}},
      {"reasons", reasons},
  };
}

}  // namespace cordon
