// Resource and lifetime escapes: fork bomb, memory bomb, disk fill (private /tmp and
// RLIMIT_FSIZE), CPU spin past cpu_seconds, wall timeout, and daemons that try to outlive
// their command or their session. Controls are the same probe with a target the policy allows.
// Also the "done when" of the sandbox: a session under all three floods leaves another
// session responsive.
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "tests/escape/escape_env.h"

namespace cordon::escape {
namespace {

std::string TestName() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

class ResourceEscape : public ::testing::Test {
 protected:
  void SetUp() override {
    if (EscapeEnv::Get().probe().empty()) GTEST_SKIP() << "the probe binary could not be copied";
    d_ = MakeDirs(TestName());
  }
  Policy Confined() { return MustBuild(BaseBuilder(d_)); }
  Dirs d_;
};

// max_processes = 64: forking 400 is refused part-way. Control: 20 fit.
TEST_F(ResourceEscape, ForkBombStoppedByPidsLimit) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"forkbomb", "400"}));
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"forkbomb", "20"}));
}

// 4 GiB against a 256 MiB limit: killed by the cgroup (status "oom") or refused by RLIMIT_AS.
// Control: 64 MiB fits.
TEST_F(ResourceEscape, MemoryBomb) {
  RunOutcome bomb = RunSandboxed(Confined(), {"alloc", "4096"});
  EXPECT_DENIED(bomb);
  if (bomb.result.status != "exited") {
    EXPECT_EQ(bomb.result.status, "oom") << Describe(bomb);
  }
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"alloc", "64"}));
}

// The private /tmp is a 16 MiB tmpfs: 64 MiB do not fit (ENOSPC). Control: 4 MiB do.
TEST_F(ResourceEscape, DiskFillPrivateTmp) {
  EXPECT_DENIED(RunSandboxed(Confined(), {"fill", "/tmp/flood", "64"}));
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"fill", "/tmp/flood", "4"}));
}

// In the workspace, RLIMIT_FSIZE (8 MiB here) stops a single file. Control: 4 MiB.
TEST_F(ResourceEscape, DiskFillWorkspaceFileSize) {
  ResourceLimits l;
  l.memory_bytes = 256ull << 20;
  l.max_processes = 64;
  l.max_file_bytes = 8ull << 20;
  Policy p = MustBuild(BaseBuilder(d_).Limits(l));
  EXPECT_DENIED(RunSandboxed(p, {"fill", d_.ws + "/flood", "32"}));
  EXPECT_SUCCEEDED(RunSandboxed(p, {"fill", d_.ws + "/flood", "4"}));
}

// cpu_seconds = 1: a 30 s spin is ended by SIGXCPU. Control: 100 ms of CPU under the same limit.
TEST_F(ResourceEscape, CpuSpinPastLimit) {
  ResourceLimits l;
  l.memory_bytes = 256ull << 20;
  l.max_processes = 64;
  l.cpu_seconds = 1;
  Policy p = MustBuild(BaseBuilder(d_).Limits(l));
  RunOutcome spin = RunSandboxed(p, {"spin", "30000"});
  EXPECT_DENIED(spin);
  EXPECT_EQ(spin.result.status, "signaled") << Describe(spin);
  EXPECT_SUCCEEDED(RunSandboxed(p, {"spin", "100"}));
}

// A wall timeout ends the command with status "timeout". Control: a command within it.
TEST_F(ResourceEscape, WallTimeoutReported) {
  RunOptions o;
  o.timeout_ms = 500;
  RunOutcome slow = RunSandboxed(Confined(), {"sleep", "60000"}, o);
  EXPECT_DENIED(slow);
  EXPECT_EQ(slow.result.status, "timeout") << Describe(slow);
  o.timeout_ms = 60000;
  EXPECT_SUCCEEDED(RunSandboxed(Confined(), {"sleep", "1"}, o));
}

// A setsid, double-forked daemon holds a lock; once its command has been reaped, the lock is
// free (the daemon is dead). Control: the same probe run on the host leaves a live daemon.
TEST_F(ResourceEscape, DaemonDoesNotOutliveCommand) {
  std::string lock = d_.ws + "/daemon.lock";
  auto s = MustCreate(Confined());
  ASSERT_TRUE(s);
  RunOutcome r = RunIn(*s, {"daemon", lock});
  ASSERT_EQ(r.verdict, Verdict::kSucceeded) << Describe(r);
  EXPECT_TRUE(LockFreeWithin(lock, 10000)) << "the daemon survived its command";
  s->Close();

  std::string host_lock = d_.out + "/daemon.lock";
  ASSERT_EQ(RunOutside({"daemon", host_lock}).verdict, Verdict::kSucceeded);
  EXPECT_FALSE(LockFreeWithin(host_lock, 0)) << "control: a host daemon should hold the lock";
  std::ifstream in(host_lock);
  pid_t pid = 0;
  in >> pid;
  if (pid > 0) ::kill(pid, SIGKILL);
}

// The command keeps running with its daemon; closing the session ends both.
TEST_F(ResourceEscape, DaemonDoesNotOutliveSession) {
  std::string lock = d_.ws + "/daemon.lock";
  auto s = MustCreate(Confined());
  ASSERT_TRUE(s);
  SpawnRequest req;
  req.argv = {EscapeEnv::Get().probe(), "daemon", lock, "stay"};
  req.cwd = d_.ws;
  req.env = {"PATH=/usr/bin:/bin"};
  auto p = s->Spawn(req);
  ASSERT_TRUE(p) << p.error().detail;
  std::string out;
  while (out.find("ready") == std::string::npos) {
    auto c = (*p)->ReadOutput(4096);
    ASSERT_TRUE(c && !c->eof) << "the probe ended before its daemon was ready";
    out += c->data;
  }
  EXPECT_FALSE(LockFreeWithin(lock, 0)) << "control: the daemon holds the lock while its session lives";
  s->Close();
  EXPECT_TRUE(LockFreeWithin(lock, 10000)) << "the daemon survived its session";
  ProcessResult r = (*p)->Wait();
  EXPECT_EQ(r.status, "killed");
}

// Done-when: a fork bomb, a 4 GiB allocation and a /tmp flood in one session, all at once,
// while a second session keeps answering.
TEST_F(ResourceEscape, FloodedSessionLeavesOthersResponsive) {
  auto bad = MustCreate(Confined());
  Dirs other = MakeDirs(TestName() + ".other");
  auto good = MustCreate(MustBuild(BaseBuilder(other)));
  ASSERT_TRUE(bad && good);
  RunOutcome bomb, alloc, fill;
  std::thread t1([&] { bomb = RunIn(*bad, {"forkbomb", "100000"}); });
  std::thread t2([&] { alloc = RunIn(*bad, {"alloc", "4096"}); });
  std::thread t3([&] { fill = RunIn(*bad, {"fill", "/tmp/flood", "100000"}); });
  for (int i = 0; i < 5; ++i) EXPECT_SUCCEEDED(RunIn(*good, {"write", other.ws + "/alive"}));
  t1.join();
  t2.join();
  t3.join();
  // Each is stopped (or, when the bomb holds every pid, refused a start); none completes.
  EXPECT_NE(bomb.verdict, Verdict::kSucceeded) << Describe(bomb);
  EXPECT_NE(alloc.verdict, Verdict::kSucceeded) << Describe(alloc);
  EXPECT_NE(fill.verdict, Verdict::kSucceeded) << Describe(fill);
  // The flooded session itself still works once the floods are over, and so does a new one.
  EXPECT_SUCCEEDED(RunIn(*bad, {"write", d_.ws + "/after"}));
  EXPECT_SUCCEEDED(RunSandboxed(MustBuild(BaseBuilder(other)), {"write", other.ws + "/new-session"}));
  bad->Close();
  good->Close();
}

}  // namespace
}  // namespace cordon::escape
