// Escapes through kernel surface and process state: terminal injection, io_uring,
// userfaultfd, bpf, perf events, nested user namespaces and mounts, setuid binaries, inherited
// fds and secrets in the environment. Syscalls the seccomp filter denies cannot have a control
// inside the sandbox, so their control is the same probe run on the host by this test; where
// the host itself forbids the call to this user, the control is skipped with the host setting.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include <gtest/gtest.h>

#include "sandbox/linux/host_probe.h"
#include "tests/escape/escape_env.h"

namespace cordon::escape {
namespace {

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

std::string Sysctl(const char* path) {
  std::string v;
  std::getline(std::ifstream(path), v);
  return v;
}

class KernelEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EscapeEnv::Get().probe().empty()) GTEST_SKIP() << "the probe binary could not be copied";
    d_ = MakeDirs(TestName());
  }
  Policy Confined() { return MustBuild(BaseBuilder(d_)); }
  // The same probe on the host must succeed, unless the host refuses it to this user anyway.
  void HostControl(const std::vector<std::string>& args, const std::string& host_limit, bool tty = false) {
    RunOutcome r = RunOutside(args, -1, tty);
    if (r.verdict == Verdict::kDenied && !host_limit.empty())
      GTEST_SKIP() << "control unavailable: the host refuses this to uid " << ::geteuid() << " (" << host_limit
                   << "): " << r.err;
    EXPECT_SUCCEEDED(r);
  }
  Dirs d_;
};

// TIOCSTI on the command's own terminal would type into the user's shell. Control: the
// same probe on a fresh pty of the host (dev.tty.legacy_tiocsti permitting).
TEST_F(KernelEscape, Tiocsti) {
  RunOptions tty;
  tty.tty = true;
  EXPECT_DENIED(RunSandboxed(Confined(), {"tiocsti"}, tty));
  HostControl({"tiocsti"}, "dev.tty.legacy_tiocsti=" + Sysctl("/proc/sys/dev/tty/legacy_tiocsti"), true);
}

// TIOCLINUX: the probe reports whether the request reached the tty driver at all.
TEST_F(KernelEscape, Tioclinux) {
  RunOptions tty;
  tty.tty = true;
  EXPECT_DENIED(RunSandboxed(Confined(), {"tioclinux"}, tty));
  HostControl({"tioclinux"}, "", true);
}

TEST_F(KernelEscape, IoUring) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"io_uring"}));
  HostControl({"io_uring"}, "kernel.io_uring_disabled=" + Sysctl("/proc/sys/kernel/io_uring_disabled"));
}

TEST_F(KernelEscape, Userfaultfd) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"userfaultfd"}));
  HostControl({"userfaultfd"}, "vm.unprivileged_userfaultfd=" + Sysctl("/proc/sys/vm/unprivileged_userfaultfd"));
}

TEST_F(KernelEscape, Bpf) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"bpf"}));
  HostControl({"bpf"}, "kernel.unprivileged_bpf_disabled=" + Sysctl("/proc/sys/kernel/unprivileged_bpf_disabled"));
}

TEST_F(KernelEscape, PerfEventOpen) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"perf"}));
  HostControl({"perf"}, "kernel.perf_event_paranoid=" + Sysctl("/proc/sys/kernel/perf_event_paranoid"));
}

// A nested user namespace would hand every capability back. unshare, clone and clone3 are the
// three doors. Control: the host allows user namespaces (the sandbox itself needs them).
TEST_F(KernelEscape, NestedUserNamespaceUnshare) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"userns"}));
  HostControl({"userns"}, "");
}

TEST_F(KernelEscape, NestedUserNamespaceClone) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"clone-userns"}));
  HostControl({"clone-userns"}, "");
}

TEST_F(KernelEscape, NestedUserNamespaceClone3) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"clone3-userns"}));
  HostControl({"clone3-userns"}, "");
}

// A mount in a fresh user+mount namespace (what would uncover hidden paths). Control: the
// same on the host.
TEST_F(KernelEscape, NestedMount) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"userns-mount"}));
  HostControl({"userns-mount"}, "");
}

// A mount namespace and a mount without a new user namespace: needs host CAP_SYS_ADMIN, so the
// control exists only when the test runs as root.
TEST_F(KernelEscape, DirectMount) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"mount"}));
  HostControl({"mount"}, "CAP_SYS_ADMIN");
}

// A setuid-root binary run by a non-root sandbox user gains nothing (nosuid mounts,
// no_new_privs, and root unmapped in the user namespace). The session runs as the
// workspace's owner, so the workspace belongs to nobody here. Control: the same binary run on
// the host as that user does gain euid 0.
TEST_F(KernelEscape, SetuidBinaryGainsNothing) {
  const std::string& suid = EscapeEnv::Get().suid_probe();
  if (suid.empty()) GTEST_SKIP() << "no setuid-root copy of the probe (needs root, or CORDON_ESCAPE_SUID_PROBE)";
  if (EscapeEnv::Get().root()) {
    ASSERT_EQ(::chown(d_.ws.c_str(), 65534, 65534), 0);
  }
  auto s = MustCreate(Confined());
  ASSERT_TRUE(s);
  SpawnRequest req;
  req.argv = {suid, "euid"};
  req.cwd = d_.ws;
  req.env = {"PATH=/usr/bin:/bin"};
  req.timeout_ms = 60000;
  auto p = s->Spawn(req);
  ASSERT_TRUE(p) << p.error().detail;
  while (true) {
    auto c = (*p)->ReadOutput(4096);
    if (!c || c->eof) break;
  }
  ProcessResult r = (*p)->Wait();
  EXPECT_EQ(r.status, "exited");
  EXPECT_EQ(r.exit_code.value_or(-1), 1) << "the setuid binary gained root inside the sandbox";
    if (!EscapeEnv::Get().root()) {
    EXPECT_SUCCEEDED(RunOutside({"euid"}, -1, false, suid));  // we already are that user
    return;
  }
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "no setpriv(1) for the control";
  RunOutcome host = RunOutside({"--reuid=65534", "--regid=65534", "--clear-groups", suid, "euid"}, -1, false,
                               "/usr/bin/setpriv");
  EXPECT_SUCCEEDED(host);
}

// The command's bounding set is empty, so nothing a later exec meets (a setuid binary, file
// capabilities, a namespace it cannot create anyway) can hand a capability back. Emptying it
// needs CAP_SETPCAP, which only a worker in its own user namespace has. Control: the same probe
// on the host, where the bounding set is full for every uid.
TEST_F(KernelEscape, BoundingSetIsEmpty) {
  if (!ProbeHostOnce().user_namespaces)
    GTEST_SKIP() << "without user namespaces the worker holds no CAP_SETPCAP to empty the bounding set: "
                 << ProbeHostOnce().user_namespaces_reason;
  EXPECT_DENIED(RunSandboxed(Confined(), {"capbnd"}));
  EXPECT_SUCCEEDED(RunOutside({"capbnd"}));
}

// The command's fd table holds only 0, 1 and 2: nothing of the server's (its stdout, its
// files) leaks in. Control: the same probe started by this process with one fd passed down.
TEST_F(KernelEscape, InheritedFds) {
  int leak = ::open(d_.out.c_str(), O_RDONLY | O_DIRECTORY);  // deliberately inheritable
  ASSERT_GE(leak, 0);
  EXPECT_DENIED(RunSandboxed(Confined(), {"fds"}));
  EXPECT_SUCCEEDED(RunOutside({"fds"}, leak));
  ::close(leak);
}

// The server's stdout in particular: no fd of the command is that file. Control: a process
// started by this one that inherits it.
TEST_F(KernelEscape, ServerStdoutNotInherited) {
  struct stat st {};
  ASSERT_EQ(::fstat(1, &st), 0);
  std::string id = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
  EXPECT_DENIED(RunSandboxed(Confined(), {"fds", id}));
  EXPECT_SUCCEEDED(RunOutside({"fds", id}, 1));
}

// A *TOKEN* variable of the server is dropped. Control: a policy that inherits everything
// and excludes nothing passes it through.
TEST_F(KernelEscape, EnvironmentSecret) {
  ::setenv("CORDON_ESCAPE_API_TOKEN", "s3cret", 1);
  EXPECT_DENIED(RunSandboxed(Confined(), {"env", "CORDON_ESCAPE_API_TOKEN"}));
  EnvPolicy everything;
  everything.inherit_all = true;
  everything.exclude.clear();
  EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(d_).Env(everything)), {"env", "CORDON_ESCAPE_API_TOKEN"}));
  ::unsetenv("CORDON_ESCAPE_API_TOKEN");
}

}  // namespace
}  // namespace cordon::escape
