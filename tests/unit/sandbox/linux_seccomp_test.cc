#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/netlink.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include <cstdlib>
#include <map>
#include <string>

#include "sandbox/linux/host_probe.h"
#include "sandbox/linux/seccomp_policy.h"
#include "sandbox/unique_fd.h"
#include "tests/unit/sandbox/linux_test_child.h"

namespace cordon {
namespace {

using testing::ErrnoOf;
using testing::kSetupFailed;
using testing::RunInChild;

const std::vector<sock_filter>& Program(NetworkMode network, SeccompStage stage) {
  static std::map<std::pair<NetworkMode, SeccompStage>, std::vector<sock_filter>> cache;
  auto key = std::make_pair(network, stage);
  if (!cache.count(key)) {
    Result<std::vector<sock_filter>> program = CompileSeccomp(network, stage);
    if (program.ok()) cache[key] = *program;
  }
  return cache[key];
}

// Runs `probe` in a child under the filter for (network, stage).
testing::ChildExit Filtered(const std::function<int()>& probe,
                            NetworkMode network = NetworkMode::kNone,
                            SeccompStage stage = SeccompStage::kCommand) {
  const std::vector<sock_filter>& program = Program(network, stage);
  return RunInChild([&] {
    if (!LoadSeccomp(program).ok()) return kSetupFailed;
    return probe();
  });
}
testing::ChildExit Unfiltered(const std::function<int()>& probe) { return RunInChild(probe); }

// Enters a fresh user namespace (uid 0 there) so a probe that needs capabilities has them
// whether the tests run as root or not. Returns false when the host has no user namespaces.
bool EnterUserNamespace(int extra_flags = 0) {
  uid_t uid = getuid();
  gid_t gid = getgid();
  if (unshare(CLONE_NEWUSER | extra_flags) != 0) return false;
  auto put = [](const char* path, const std::string& text) {
    UniqueFd fd(open(path, O_WRONLY | O_CLOEXEC));
    return fd && write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  };
  put("/proc/self/setgroups", "deny");
  return put("/proc/self/uid_map", "0 " + std::to_string(uid) + " 1") &&
         put("/proc/self/gid_map", "0 " + std::to_string(gid) + " 1");
}

#define REQUIRE_USERNS()                \
  if (!ProbeHostOnce().user_namespaces) \
  GTEST_SKIP() << "needs user namespaces: " << ProbeHostOnce().user_namespaces_reason

// The pairing: EPERM under the filter, and the same probe not refused with EPERM without it
// (so the probe really reaches the kernel and the denial is the filter's).
#define EXPECT_DENIED_WITH_CONTROL(...)                                                         \
  do {                                                                                          \
    testing::ChildExit control = Unfiltered(__VA_ARGS__);                                       \
    ASSERT_EQ(control.signal, 0);                                                               \
    ASSERT_LT(control.code, kSetupFailed);                                                      \
    ASSERT_NE(control.code, EPERM) << "control already fails with EPERM on this host";          \
    testing::ChildExit denied = Filtered(__VA_ARGS__);                                          \
    EXPECT_TRUE(denied.Exited(EPERM)) << "code " << denied.code << " signal " << denied.signal; \
  } while (0)

TEST(LinuxSeccomp, CompilesEveryVariant) {
  for (NetworkMode network : {NetworkMode::kNone, NetworkMode::kFull}) {
    for (SeccompStage stage : {SeccompStage::kWorker, SeccompStage::kCommand}) {
      Result<std::vector<sock_filter>> program = CompileSeccomp(network, stage);
      ASSERT_TRUE(program.ok()) << program.error().detail;
      EXPECT_GT(program->size(), 10u);
      EXPECT_LE(program->size(), 4096u);
    }
  }
}

TEST(LinuxSeccomp, LoadSetsNoNewPrivs) {
  EXPECT_TRUE(
      Filtered([] { return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1 ? 0 : 1; }).Exited(0));
}

TEST(LinuxSeccomp, PtraceDenied) {
  EXPECT_DENIED_WITH_CONTROL([] { return ErrnoOf(ptrace(PTRACE_TRACEME, 0, nullptr, nullptr)); });
}

TEST(LinuxSeccomp, ProcessVmReadvDenied) {
  EXPECT_DENIED_WITH_CONTROL([] {
    char src[8] = "secret", dst[8] = {};
    iovec local{dst, sizeof dst}, remote{src, sizeof src};
    return ErrnoOf(process_vm_readv(getpid(), &local, 1, &remote, 1, 0));
  });
}

TEST(LinuxSeccomp, IoUringDenied) {
  EXPECT_DENIED_WITH_CONTROL([] {
    io_uring_params params{};
    long fd = syscall(__NR_io_uring_setup, 1, &params);
    return ErrnoOf(fd);
  });
}

TEST(LinuxSeccomp, BpfDenied) {
  // An attribute larger than a page is refused with E2BIG before any privilege check, so the
  // control reaches the kernel's bpf code whether or not unprivileged bpf is allowed.
  EXPECT_DENIED_WITH_CONTROL([] {
    static char attr[8192];
    return ErrnoOf(syscall(__NR_bpf, BPF_MAP_CREATE, attr, sizeof attr));
  });
}

TEST(LinuxSeccomp, UserfaultfdDenied) {
  EXPECT_DENIED_WITH_CONTROL([] {
    // User-mode-only is what an unprivileged process may create (vm.unprivileged_userfaultfd).
    return ErrnoOf(syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY));
  });
}

TEST(LinuxSeccomp, PerfEventOpenDenied) {
  EXPECT_DENIED_WITH_CONTROL([] {
    // A zero-sized attribute is rejected (EINVAL/E2BIG) by the kernel itself.
    static char attr[128];
    return ErrnoOf(syscall(__NR_perf_event_open, attr, 0, -1, -1, 0));
  });
}

TEST(LinuxSeccomp, KeyringDenied) {
  EXPECT_DENIED_WITH_CONTROL([] {
    return ErrnoOf(syscall(__NR_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_PROCESS_KEYRING, 1));
  });
}

// A pty that is the probe's controlling terminal, so TIOCSTI is only refused by the filter.
int WithControllingPty(const std::function<int(int)>& probe) {
  // The probe is the session leader: closing the pty at exit would hang it up.
  signal(SIGHUP, SIG_IGN);
  UniqueFd master(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master || grantpt(master.get()) != 0 || unlockpt(master.get()) != 0) return kSetupFailed;
  const char* name = ptsname(master.get());
  if (name == nullptr || setsid() < 0) return kSetupFailed + 1;
  UniqueFd slave(open(name, O_RDWR | O_CLOEXEC));
  if (!slave || ioctl(slave.get(), TIOCSCTTY, 0) != 0) return kSetupFailed + 2;
  return probe(slave.get());
}

TEST(LinuxSeccomp, TiocstiDeniedAlsoWithHighBitsInTheRequest) {
  EXPECT_DENIED_WITH_CONTROL([] {
    return WithControllingPty([](int tty) {
      char c = 'x';
      return ErrnoOf(ioctl(tty, TIOCSTI, &c));
    });
  });
  // The kernel reads the request as 32 bits: these high bits do not change what it does.
  EXPECT_DENIED_WITH_CONTROL([] {
    return WithControllingPty([](int tty) {
      char c = 'x';
      unsigned long request = (0xdeadbeefUL << 32) | TIOCSTI;
      return ErrnoOf(syscall(__NR_ioctl, tty, request, &c));
    });
  });
}

TEST(LinuxSeccomp, TioclinuxDenied) {
  EXPECT_DENIED_WITH_CONTROL([] {
    return WithControllingPty([](int tty) {
      char subcode = 0;
      return ErrnoOf(ioctl(tty, TIOCLINUX, &subcode));
    });
  });
}

TEST(LinuxSeccomp, OtherTerminalIoctlsStillWork) {
  EXPECT_TRUE(Filtered([] {
                return WithControllingPty([](int tty) {
                  winsize ws{};
                  return ErrnoOf(ioctl(tty, TIOCGWINSZ, &ws));
                });
              }).Exited(0));
}

TEST(LinuxSeccomp, UnshareUserDenied) {
  REQUIRE_USERNS();
  EXPECT_DENIED_WITH_CONTROL([] { return ErrnoOf(unshare(CLONE_NEWUSER)); });
}

TEST(LinuxSeccomp, MountDeniedEvenWithCapabilities) {
  REQUIRE_USERNS();
  auto probe = [] {
    if (!EnterUserNamespace(CLONE_NEWNS)) return kSetupFailed;
    return ErrnoOf(mount("none", "/tmp", "tmpfs", 0, nullptr));
  };
  // The filter is loaded first, so the namespace must be entered before it; run the control
  // the same way.
  testing::ChildExit control = Unfiltered(probe);
  EXPECT_TRUE(control.Exited(0)) << control.code;
  const std::vector<sock_filter>& program = Program(NetworkMode::kNone, SeccompStage::kCommand);
  testing::ChildExit denied = RunInChild([&] {
    if (!EnterUserNamespace(CLONE_NEWNS)) return kSetupFailed;
    if (!LoadSeccomp(program).ok()) return kSetupFailed + 1;
    return ErrnoOf(mount("none", "/tmp", "tmpfs", 0, nullptr));
  });
  EXPECT_TRUE(denied.Exited(EPERM)) << denied.code;
}

int CloneWith(unsigned long flags) {
  long pid = syscall(__NR_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid == 0) _exit(0);
  if (pid < 0) return errno;
  int status = 0;
  waitpid(static_cast<pid_t>(pid), &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : kSetupFailed + 5;
}

// The worker may start a command as init of a new PID namespace; a command may not, and
// neither may create any other namespace. Both run inside a user namespace entered before
// the filter, where CLONE_NEWPID needs no host privilege.
TEST(LinuxSeccomp, CloneNamespaceFlagsByStage) {
  REQUIRE_USERNS();
  auto under = [](SeccompStage stage, unsigned long flags) {
    const std::vector<sock_filter>& program = Program(NetworkMode::kNone, stage);
    return RunInChild([&] {
      if (!EnterUserNamespace()) return kSetupFailed;
      if (!LoadSeccomp(program).ok()) return kSetupFailed + 1;
      return CloneWith(flags);
    });
  };
  EXPECT_TRUE(under(SeccompStage::kWorker, CLONE_NEWPID).Exited(0));
  EXPECT_TRUE(under(SeccompStage::kCommand, CLONE_NEWPID).Exited(EPERM));
  for (unsigned long flag :
       {CLONE_NEWUSER, CLONE_NEWNS, CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWCGROUP}) {
    EXPECT_TRUE(under(SeccompStage::kWorker, flag).Exited(EPERM)) << std::hex << flag;
    EXPECT_TRUE(under(SeccompStage::kCommand, flag | CLONE_NEWPID).Exited(EPERM)) << flag;
  }
  // Control: without a filter the same clones succeed.
  EXPECT_TRUE(RunInChild([] {
                if (!EnterUserNamespace()) return kSetupFailed;
                return CloneWith(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID);
              }).Exited(0));
}

TEST(LinuxSeccomp, Clone3IsEnosysAndThreadsStillWork) {
  EXPECT_TRUE(Filtered([] { return ErrnoOf(syscall(__NR_clone3, nullptr, 0)); }).Exited(ENOSYS));
  // glibc's pthread_create tries clone3 first and falls back to clone on ENOSYS.
  EXPECT_TRUE(Filtered([] {
                pthread_t thread;
                auto body = [](void*) -> void* { return nullptr; };
                if (pthread_create(&thread, nullptr, body, nullptr) != 0) return 1;
                return pthread_join(thread, nullptr);
              }).Exited(0));
  EXPECT_TRUE(Filtered([] { return CloneWith(0); }).Exited(0));
}

int OpenSocket(long family, int type, int protocol) {
  long fd = syscall(__NR_socket, family, type | SOCK_CLOEXEC, protocol);
  if (fd < 0) return errno;
  close(static_cast<int>(fd));
  return 0;
}

TEST(LinuxSeccomp, InetSocketsFollowTheNetworkMode) {
  for (int family : {AF_INET, AF_INET6}) {
    auto probe = [family] { return OpenSocket(family, SOCK_STREAM, 0); };
    EXPECT_TRUE(Filtered(probe, NetworkMode::kNone).Exited(EPERM)) << family;
    EXPECT_TRUE(Filtered(probe, NetworkMode::kFull).Exited(0)) << family;
  }
  // High bits do not turn AF_INET into something the filter does not know.
  auto high = [] { return OpenSocket((1L << 32) | AF_INET, SOCK_STREAM, 0); };
  EXPECT_TRUE(Filtered(high, NetworkMode::kNone).Exited(EPERM));
}

TEST(LinuxSeccomp, PacketSocketsDeniedInEveryMode) {
  // A packet socket needs CAP_NET_RAW over the network namespace: a private one gives it.
  auto probe = [] {
    if (getuid() != 0 && !EnterUserNamespace(CLONE_NEWNET)) return kSetupFailed;
    return OpenSocket(AF_PACKET, SOCK_RAW, 0);
  };
  if (getuid() != 0) REQUIRE_USERNS();
  EXPECT_TRUE(Unfiltered(probe).Exited(0));
  for (NetworkMode network : {NetworkMode::kNone, NetworkMode::kFull}) {
    const std::vector<sock_filter>& program = Program(network, SeccompStage::kCommand);
    testing::ChildExit denied = RunInChild([&] {
      if (getuid() != 0 && !EnterUserNamespace(CLONE_NEWNET)) return kSetupFailed;
      if (!LoadSeccomp(program).ok()) return kSetupFailed + 1;
      return OpenSocket(AF_PACKET, SOCK_RAW, 0);
    });
    EXPECT_TRUE(denied.Exited(EPERM)) << denied.code;
  }
}

TEST(LinuxSeccomp, UnixAndRouteNetlinkAllowedOtherNetlinkDenied) {
  EXPECT_TRUE(Filtered([] { return OpenSocket(AF_UNIX, SOCK_STREAM, 0); }).Exited(0));
  EXPECT_TRUE(Filtered([] {
                int pair[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return errno;
                close(pair[0]);
                close(pair[1]);
                return 0;
              }).Exited(0));
  EXPECT_TRUE(Filtered([] { return OpenSocket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); }).Exited(0));
  EXPECT_DENIED_WITH_CONTROL([] { return OpenSocket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC); });
  EXPECT_DENIED_WITH_CONTROL([] { return OpenSocket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); });
}

TEST(LinuxSeccomp, PersonalityOnlyQueryOrLinux) {
  EXPECT_DENIED_WITH_CONTROL([] { return ErrnoOf(personality(ADDR_NO_RANDOMIZE)); });
  EXPECT_DENIED_WITH_CONTROL([] { return ErrnoOf(personality(READ_IMPLIES_EXEC)); });
  EXPECT_DENIED_WITH_CONTROL([] { return ErrnoOf(personality(PER_LINUX32)); });
  EXPECT_TRUE(Filtered([] { return ErrnoOf(personality(0xffffffff)); }).Exited(0));
  EXPECT_TRUE(Filtered([] { return ErrnoOf(personality(PER_LINUX)); }).Exited(0));
}

TEST(LinuxSeccomp, ModuleAndRebootDeniedWithoutReachingTheKernel) {
  // Without the filter these fail with EPERM for lack of capabilities as well, so only the
  // filtered result is checked: EPERM from the filter even for root.
  EXPECT_TRUE(
      Filtered([] { return ErrnoOf(syscall(__NR_finit_module, -1, "", 0)); }).Exited(EPERM));
  EXPECT_TRUE(
      Filtered([] { return ErrnoOf(syscall(__NR_reboot, 0, 0, 0, nullptr)); }).Exited(EPERM));
  EXPECT_TRUE(Filtered([] {
                return ErrnoOf(syscall(__NR_open_by_handle_at, -1, nullptr, 0));
              }).Exited(EPERM));
  // Control for root: the kernel's own answer differs (EFAULT for the null handle).
  if (getuid() == 0) {
    testing::ChildExit control =
        Unfiltered([] { return ErrnoOf(syscall(__NR_open_by_handle_at, -1, nullptr, 0)); });
    EXPECT_TRUE(control.Exited(EFAULT)) << control.code;
  }
}

#if defined(__x86_64__)
TEST(LinuxSeccomp, X32AndI386SyscallsKillTheProcess) {
  constexpr long kX32Bit = 0x40000000;
  testing::ChildExit x32 = Filtered([] { return ErrnoOf(syscall(kX32Bit | __NR_getpid)); });
  EXPECT_EQ(x32.signal, SIGSYS) << "code " << x32.code;
  auto i386_getpid = [] {
    long ret = 20;  // __NR_getpid on i386
    asm volatile("int $0x80" : "+a"(ret) : : "memory");
    return ret == getpid() ? 0 : 1;
  };
  testing::ChildExit control = Unfiltered(i386_getpid);
  if (!control.Exited(0)) GTEST_SKIP() << "no i386 emulation on this kernel";
  EXPECT_EQ(Filtered(i386_getpid).signal, SIGSYS);
}
#endif

TEST(LinuxSeccomp, OrdinaryWorkStillWorks) {
  std::string dir = testing::MakeTempDir();
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(Filtered([&] {
                std::string file = dir + "/f";
                UniqueFd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
                if (!fd || write(fd.get(), "x", 1) != 1) return 1;
                pid_t pid = fork();
                if (pid == 0) {
                  execl("/bin/sh", "sh", "-c", "exit 7", static_cast<char*>(nullptr));
                  _exit(127);
                }
                int status = 0;
                waitpid(pid, &status, 0);
                return WIFEXITED(status) && WEXITSTATUS(status) == 7 ? 0 : 2;
              }).Exited(0));
  testing::RemoveTree(dir);
}

}  // namespace
}  // namespace cordon
