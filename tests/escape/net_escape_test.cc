// Network and IPC escapes: TCP, UDP and DNS to listeners this test starts on the host's
// loopback, raw sockets, abstract and path unix sockets outside, signals and ptrace aimed at
// processes outside the session (this test process - the server - included).
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/escape/escape_env.h"

namespace cordon::escape {
namespace {

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

class NetEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EscapeEnv::Get().probe().empty()) GTEST_SKIP() << "the probe binary could not be copied";
    d_ = MakeDirs(TestName());
  }
  Policy NoNet() { return MustBuild(BaseBuilder(d_)); }
  Policy FullNet() { return MustBuild(BaseBuilder(d_).Network(NetworkMode::kFull)); }
  Dirs d_;
};

// Control for every network case: the same probe with network = full must reach the listener.
TEST_F(NetEscape, TcpToHostLoopback) {
  Listener l(Listener::kTcp);
  ASSERT_TRUE(l.ok());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"tcp", std::to_string(l.port())}));
  EXPECT_EQ(l.accepted(), 0);
  EXPECT_SUCCEEDED(RunSandboxed(FullNet(), {"tcp", std::to_string(l.port())}));
}

TEST_F(NetEscape, UdpToHostLoopback) {
  Listener l(Listener::kUdp);
  ASSERT_TRUE(l.ok());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"udp", std::to_string(l.port())}));
  EXPECT_EQ(l.accepted(), 0);
  EXPECT_SUCCEEDED(RunSandboxed(FullNet(), {"udp", std::to_string(l.port())}));
}

// A DNS query to a resolver on the host (the test's responder stands in for one).
TEST_F(NetEscape, DnsQuery) {
  Listener l(Listener::kUdp);
  ASSERT_TRUE(l.ok());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"dns", std::to_string(l.port())}));
  EXPECT_SUCCEEDED(RunSandboxed(FullNet(), {"dns", std::to_string(l.port())}));
}

// Raw sockets stay denied even with the network on: seccomp refuses SOCK_RAW families other
// than inet, and CAP_NET_RAW is never held. Control: the same probe outside the sandbox, in a
// user+network namespace of its own (unshare -rn), where it holds CAP_NET_RAW.
TEST_F(NetEscape, RawSocket) {
  EXPECT_DENIED(RunSandboxed(NoNet(), {"raw"}));
  EXPECT_DENIED(RunSandboxed(FullNet(), {"raw"}));
  if (::access("/usr/bin/unshare", X_OK) != 0) GTEST_SKIP() << "no unshare(1) for the control";
  EXPECT_SUCCEEDED(RunOutside({"-rn", EscapeEnv::Get().probe(), "raw"}, -1, false, "/usr/bin/unshare"));
}

// Abstract unix sockets live in the network namespace: unreachable with the network off, and
// Landlock's abstract-socket scope (ABI 6) refuses them with the network on. Control: a
// listener created inside the same session is reachable (scoping allows the same domain) -
// checked here as: the host listener is reachable from the host.
TEST_F(NetEscape, AbstractUnixSocketOutside) {
  std::string name = "cordon-escape-" + std::to_string(::getpid());
  Listener l(Listener::kUnixAbstract, name);
  ASSERT_TRUE(l.ok());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"unix-abstract", name}));
  EXPECT_DENIED(RunSandboxed(FullNet(), {"unix-abstract", name}));
  EXPECT_EQ(l.accepted(), 0);
  EXPECT_SUCCEEDED(RunOutside({"unix-abstract", name}));
}

// A path socket under the host's /tmp is hidden by the session's private /tmp. Control: the
// same socket when its directory is a writable root (bound into the session).
TEST_F(NetEscape, PathUnixSocketInHostTmp) {
  char dir[] = "/tmp/cordon-escape-XXXXXX";
  ASSERT_NE(::mkdtemp(dir), nullptr);
  ::chmod(dir, 0755);
  std::string path = std::string(dir) + "/sock";
  {
    Listener l(Listener::kUnixPath, path);
    ASSERT_TRUE(l.ok());
    EXPECT_DENIED(RunSandboxed(NoNet(), {"unix-path", path}));
    EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(d_).WritableRoot(dir)), {"unix-path", path}));
  }
  ::rmdir(dir);
}

// A path socket under the host's /run (where system daemons keep theirs: docker, dbus,
// systemd) is hidden by the session's empty /run. Needs root to create the listener there.
// Control: the host reaches it.
TEST_F(NetEscape, PathUnixSocketInHostRun) {
  if (!EscapeEnv::Get().root()) GTEST_SKIP() << "only root can create a listener under /run";
  std::string dir = "/run/cordon-escape-" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  {
    Listener l(Listener::kUnixPath, dir + "/sock");
    ASSERT_TRUE(l.ok());
    EXPECT_DENIED(RunSandboxed(NoNet(), {"unix-path", dir + "/sock"}));
    EXPECT_EQ(l.accepted(), 0);
    EXPECT_SUCCEEDED(RunOutside({"unix-path", dir + "/sock"}));
  }
  ::rmdir(dir.c_str());
}

// KNOWN GAP, pinned so that a change is noticed: a path socket in a directory the session can
// see read-only (outside /tmp, /var/tmp and /run) is reachable when its file mode lets the
// session's uid write it. connect() checks write permission on the socket inode, not on the
// mount, so the read-only bind does not stop it; Landlock up to ABI 8 has no right for
// pathname sockets (LANDLOCK_ACCESS_FS_RESOLVE_UNIX comes later), and seccomp cannot read the
// address. What does hold: the socket file's own permissions (a 0700 directory or a 0600
// socket of another user keeps the session out), the private /tmp and the empty /run. Below,
// the listener is mode 0777 and reachable; behind a 0700 directory of another owner it is not.
TEST_F(NetEscape, PathUnixSocketOutsideTmpKnownGap) {
  // A short directory of its own: sun_path holds 107 bytes.
  std::string dir = EscapeEnv::Get().base() + "/u" + std::to_string(::getpid());
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  std::string path = dir + "/sock";
  Listener l(Listener::kUnixPath, path);
  ASSERT_TRUE(l.ok());
  RunOutcome open = RunSandboxed(NoNet(), {"unix-path", path});
  EXPECT_SUCCEEDED(open) << "the known gap closed: update this test, mount_plan.cc and the README";
  if (!EscapeEnv::Get().root()) {
    return;  // the base directory (and this socket) is removed with the run
  }
  // The session runs as the workspace owner: give the workspace to nobody, keep the socket's
  // directory root's and 0700.
  ASSERT_EQ(::chown(d_.ws.c_str(), 65534, 65534), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0700), 0);
  EXPECT_DENIED(RunSandboxed(NoNet(), {"unix-path", path}));
  ::chmod(dir.c_str(), 0755);
}

// Signals to the server (this process) and to another host process. The PID namespace hides
// them and Landlock's signal scope refuses them. Control: the same probe from the host.
TEST_F(NetEscape, SignalServer) {
  std::string me = std::to_string(::getpid());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"kill", me}));
  EXPECT_SUCCEEDED(RunOutside({"kill", me}));
}

TEST_F(NetEscape, SignalOutsideProcess) {
  Sleeper target;
  std::string pid = std::to_string(target.pid());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"kill", pid}));
  EXPECT_SUCCEEDED(RunOutside({"kill", pid}));
}

// ptrace of the server and of another host process. seccomp denies ptrace outright, so the
// control is the same probe from the host (same uid), not from inside the sandbox.
TEST_F(NetEscape, PtraceServer) {
  std::string me = std::to_string(::getpid());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"ptrace", me}));
  EXPECT_SUCCEEDED(RunOutside({"ptrace", me}));
}

TEST_F(NetEscape, PtraceOutsideProcess) {
  Sleeper target;
  std::string pid = std::to_string(target.pid());
  EXPECT_DENIED(RunSandboxed(NoNet(), {"ptrace", pid}));
  EXPECT_SUCCEEDED(RunOutside({"ptrace", pid}));
}

}  // namespace
}  // namespace cordon::escape
