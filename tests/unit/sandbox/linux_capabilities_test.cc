#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <string>

#include "sandbox/linux/capabilities.h"
#include "sandbox/linux/host_probe.h"
#include "sandbox/unique_fd.h"
#include "tests/unit/sandbox/linux_test_child.h"

namespace cordon {
namespace {

using testing::ErrnoOf;
using testing::kSetupFailed;
using testing::RunInChild;

bool EnterUserNamespaceAsRoot() {
  std::string uid_map = "0 " + std::to_string(getuid()) + " 1";
  std::string gid_map = "0 " + std::to_string(getgid()) + " 1";
  if (unshare(CLONE_NEWUSER) != 0) return false;
  auto put = [](const char* path, const std::string& text) {
    UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
    return fd && write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  };
  put("/proc/self/setgroups", "deny");
  return put("/proc/self/uid_map", uid_map) && put("/proc/self/gid_map", gid_map);
}

// 0 when no capability is held in any set and the bounding set is empty (when `bounding`).
int NothingHeld(bool bounding) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (syscall(SYS_capget, &header, data) != 0) return kSetupFailed;
  for (const auto& d : data) {
    if (d.effective || d.permitted || d.inheritable) return 1;
  }
  if (bounding && prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 2;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_NET_RAW, 0, 0) > 0) return 3;
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) return 4;
  return 0;
}

// After exec as uid 0 no capability may come back (SECBIT_NOROOT, empty bounding set).
int ExecShowsNoCapabilities() {
  pid_t pid = fork();
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c",
          "grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/self/status",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : kSetupFailed;
}

TEST(LinuxCapabilities, RootLosesEverythingForGood) {
  if (getuid() != 0) GTEST_SKIP() << "needs root outside any user namespace";
  std::string dir = testing::MakeTempDir();
  std::string file = dir + "/owned";
  UniqueFd(open(file.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
  // Control: root can give the file away.
  EXPECT_TRUE(RunInChild([&] { return ErrnoOf(chown(file.c_str(), 4242, 4242)); }).Exited(0));
  EXPECT_TRUE(RunInChild([&] {
                if (!DropAllCapabilities().ok()) return kSetupFailed;
                int held = NothingHeld(true);
                if (held != 0) return 100 + held;
                int bits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
                if (!(bits & SECBIT_NOROOT_LOCKED) || !(bits & SECBIT_NOROOT)) return 110;
                return ErrnoOf(chown(file.c_str(), 0, 0));
              }).Exited(EPERM));
  EXPECT_TRUE(RunInChild([] {
                return DropAllCapabilities().ok() ? ExecShowsNoCapabilities() : kSetupFailed;
              }).Exited(0));
  // Control: without the drop, exec as root keeps a full effective set.
  EXPECT_TRUE(RunInChild([] { return ExecShowsNoCapabilities(); }).Exited(1));
  testing::RemoveTree(dir);
}

TEST(LinuxCapabilities, UidZeroInAUserNamespaceLosesEverything) {
  if (!ProbeHostOnce().user_namespaces) {
    GTEST_SKIP() << "needs user namespaces: " << ProbeHostOnce().user_namespaces_reason;
  }
  // Control: uid 0 of a fresh user namespace may create a UTS namespace and keeps its
  // capabilities across exec.
  EXPECT_TRUE(RunInChild([] {
                if (!EnterUserNamespaceAsRoot()) return kSetupFailed;
                return ErrnoOf(unshare(CLONE_NEWUTS));
              }).Exited(0));
  EXPECT_TRUE(RunInChild([] {
                if (!EnterUserNamespaceAsRoot()) return kSetupFailed;
                return ExecShowsNoCapabilities();
              }).Exited(1));
  // After the drop it can do neither.
  EXPECT_TRUE(RunInChild([] {
                if (!EnterUserNamespaceAsRoot() || !DropAllCapabilities().ok()) return kSetupFailed;
                int held = NothingHeld(true);
                if (held != 0) return 100 + held;
                return ErrnoOf(unshare(CLONE_NEWUTS));
              }).Exited(EPERM));
  EXPECT_TRUE(RunInChild([] {
                if (!EnterUserNamespaceAsRoot() || !DropAllCapabilities().ok()) return kSetupFailed;
                return ExecShowsNoCapabilities();
              }).Exited(0));
}

TEST(LinuxCapabilities, UnprivilegedUidSucceedsWithoutSetpcap) {
  EXPECT_TRUE(RunInChild([] {
                // As root, become an ordinary uid first (the uid change clears every capability).
                if (getuid() == 0 &&
                    (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)) {
                  return kSetupFailed;
                }
                if (!DropAllCapabilities().ok()) return kSetupFailed + 1;
                return NothingHeld(false);
              }).Exited(0));
}

}  // namespace
}  // namespace cordon
