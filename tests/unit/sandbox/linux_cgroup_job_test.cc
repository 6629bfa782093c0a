#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <string>

#include "sandbox/linux/cgroup_job.h"
#include "sandbox/unique_fd.h"
#include "tests/unit/sandbox/linux_test_child.h"

namespace cordon {
namespace {

std::string UniqueName() {
  static int counter = 0;
  return "cordon-test-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

// A child that waits until the test has put it into the job, then runs `body`; `report` is a
// pipe the body may write into.
class HeldChild {
 public:
  explicit HeldChild(const std::function<int(int report_fd)>& body) {
    int go[2], report[2];
    if (pipe2(go, O_CLOEXEC) != 0 || pipe2(report, O_CLOEXEC) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      close(go[1]);
      close(report[0]);
      char c;
      if (read(go[0], &c, 1) != 1) _exit(testing::kSetupFailed);
      _exit(body(report[1]) & 0xff);
    }
    close(go[0]);
    close(report[1]);
    go_ = UniqueFd(go[1]);
    report_ = UniqueFd(report[0]);
  }
  ~HeldChild() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }
  void Release() { (void)!write(go_.get(), "g", 1); }
  // Reads one pid_t-sized value the body wrote.
  pid_t ReadPid() {
    pid_t value = 0;
    return read(report_.get(), &value, sizeof value) == sizeof value ? value : -1;
  }
  testing::ChildExit Wait() {
    testing::ChildExit out;
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    reaped_ = true;
    if (WIFEXITED(status)) out.code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
    return out;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  UniqueFd go_;
  UniqueFd report_;
};

// A process that no longer runs: gone, or a zombie waiting for its new parent to reap it.
bool NotRunning(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

class LinuxCgroupJob : public ::testing::Test {
 protected:
  std::unique_ptr<CgroupJob> MakeJob(const JobLimits& limits,
                                     const CgroupHost& host = ProbeHostOnce().cgroup) {
    Result<std::unique_ptr<CgroupJob>> job = CgroupJob::Create(UniqueName(), limits, host);
    EXPECT_TRUE(job.ok()) << job.error().detail;
    return job.ok() ? std::move(*job) : nullptr;
  }
};

#define REQUIRE(cond, job)                                                         \
  if (!(cond)) {                                                                   \
    GTEST_SKIP() << #cond << " does not hold for a " << JobKindName((job)->kind()) \
                 << " job here: " << (job)->degraded_reason();                     \
  }

TEST_F(LinuxCgroupJob, PicksTheBestMechanismAndSaysWhy) {
  std::unique_ptr<CgroupJob> job = MakeJob({64ull << 20, 64, 0});
  ASSERT_TRUE(job);
  std::cerr << "job kind: " << JobKindName(job->kind()) << " (" << job->degraded_reason() << ")\n";
  if (job->kind() == JobKind::kNone || job->kind() == JobKind::kTrackingOnly) {
    EXPECT_FALSE(job->degraded_reason().empty());
  }
  if (!job->enforces_memory() || !job->enforces_pids()) {
    EXPECT_FALSE(job->degraded_reason().empty());
  }
  const CgroupHost& host = ProbeHostOnce().cgroup;
  if (host.Hybrid()) {
    EXPECT_EQ(job->kind(), JobKind::kCgroupV1Hybrid);
  }
  if (host.Version() == "v2") {
    EXPECT_EQ(job->kind(), JobKind::kCgroupV2);
  }
  EXPECT_TRUE(job->KillAll().ok());
  EXPECT_TRUE(job->Remove().ok());
}

TEST_F(LinuxCgroupJob, NoUsableCgroupMeansANamedFallback) {
  Result<std::unique_ptr<CgroupJob>> job = CgroupJob::Create(UniqueName(), {}, CgroupHost{});
  ASSERT_TRUE(job.ok());
  EXPECT_EQ((*job)->kind(), JobKind::kNone);
  EXPECT_NE((*job)->degraded_reason().find("memory limit is per process"), std::string::npos);
  EXPECT_FALSE((*job)->enforces_memory());
  EXPECT_TRUE((*job)->KillAll().ok());
  EXPECT_TRUE((*job)->Pids().empty());
}

TEST_F(LinuxCgroupJob, RejectsNamesThatAreNotOneComponent) {
  for (const char* bad : {"", "a/b", "..", "."}) {
    Result<std::unique_ptr<CgroupJob>> job = CgroupJob::Create(bad, {});
    ASSERT_FALSE(job.ok()) << bad;
    EXPECT_EQ(job.error().kind, ErrorKind::kInvalidArgument);
  }
}

TEST_F(LinuxCgroupJob, MemoryHogIsOomKilled) {
  std::unique_ptr<CgroupJob> job = MakeJob({64ull << 20, 64, 0});
  ASSERT_TRUE(job);
  REQUIRE(job->enforces_memory(), job);
  uint64_t ooms_before = job->OomKillCount();
  // Control: the same allocation pattern, smaller than the limit, completes.
  auto allocate = [](size_t bytes) {
    return [bytes](int) {
      char* p = static_cast<char*>(
          mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
      if (p == MAP_FAILED) return errno;
      for (size_t off = 0; off < bytes; off += 4096) p[off] = 1;
      return 0;
    };
  };
  HeldChild small(allocate(16ull << 20));
  ASSERT_TRUE(job->AddProcess(small.pid()).ok());
  small.Release();
  EXPECT_TRUE(small.Wait().Exited(0));
  EXPECT_EQ(job->OomKillCount(), ooms_before);

  HeldChild hog(allocate(256ull << 20));
  ASSERT_TRUE(job->AddProcess(hog.pid()).ok());
  hog.Release();
  testing::ChildExit end = hog.Wait();
  EXPECT_EQ(end.signal, SIGKILL) << "exit code " << end.code;
  EXPECT_GT(job->OomKillCount(), ooms_before);
  EXPECT_GE(job->PeakMemory(), 16ull << 20);
  EXPECT_LE(job->PeakMemory(), (64ull << 20) + (1ull << 20));
}

TEST_F(LinuxCgroupJob, ForkLoopStopsAtPidsMax) {
  std::unique_ptr<CgroupJob> job = MakeJob({0, 16, 0});
  ASSERT_TRUE(job);
  REQUIRE(job->enforces_pids(), job);
  HeldChild loop([](int) {
    int forked = 0;
    while (forked < 100) {
      pid_t pid = fork();
      if (pid == 0) {
        pause();
        _exit(0);
      }
      if (pid < 0) return errno == EAGAIN ? forked : testing::kSetupFailed;
      ++forked;
    }
    return forked;
  });
  ASSERT_TRUE(job->AddProcess(loop.pid()).ok());
  loop.Release();
  // The loop process plus 15 children make 16 tasks.
  EXPECT_TRUE(loop.Wait().Exited(15));
  EXPECT_EQ(job->Pids().size(), 15u);
  ASSERT_TRUE(job->KillAll().ok());
  EXPECT_TRUE(job->Pids().empty());
}

// The kill paths: as probed (cgroup.kill on this host), v1 only (freezer + SIGKILL sweeps),
// and cgroup2 without controllers (tracking and cgroup.kill, no limits).
CgroupHost Variant(const std::string& name) {
  CgroupHost host = ProbeHostOnce().cgroup;
  if (name == "v1_only") {
    host.v2_writable = false;
    host.v2_base.clear();
  } else if (name == "tracking_only") {
    host.v1_bases.clear();
    host.v2_controllers.clear();
  }
  return host;
}

class LinuxCgroupJobKill : public LinuxCgroupJob,
                           public ::testing::WithParamInterface<std::string> {};

INSTANTIATE_TEST_SUITE_P(LinuxCgroupHosts, LinuxCgroupJobKill,
                         ::testing::Values("probed", "v1_only", "tracking_only"));

TEST_P(LinuxCgroupJobKill, KillAllReachesSetsidDaemons) {
  std::unique_ptr<CgroupJob> job = MakeJob({0, 64, 0}, Variant(GetParam()));
  ASSERT_TRUE(job);
  REQUIRE(job->kind() != JobKind::kNone, job);
  HeldChild parent([](int report) -> int {
    pid_t middle = fork();
    if (middle == 0) {
      setsid();
      pid_t daemon = fork();
      if (daemon == 0) {
        pid_t self = getpid();
        (void)!write(report, &self, sizeof self);
        for (;;) pause();
      }
      _exit(0);
    }
    waitpid(middle, nullptr, 0);
    for (;;) pause();
  });
  ASSERT_TRUE(job->AddProcess(parent.pid()).ok());
  parent.Release();
  pid_t daemon = parent.ReadPid();
  ASSERT_GT(daemon, 0);
  // The daemon reports before the middle process has finished exiting; wait for it to leave.
  for (int i = 0; i < 500 && job->Pids().size() != 2u; ++i) usleep(10000);
  EXPECT_EQ(job->Pids().size(), 2u);
  EXPECT_FALSE(NotRunning(daemon));
  std::cerr << "kill path: " << JobKindName(job->kind()) << "\n";
  ASSERT_TRUE(job->KillAll().ok());
  EXPECT_TRUE(job->Pids().empty());
  EXPECT_EQ(parent.Wait().signal, SIGKILL);
  EXPECT_TRUE(NotRunning(daemon));
  EXPECT_TRUE(job->Remove().ok());
}

TEST_P(LinuxCgroupJobKill, KillAllStopsAForkingTree) {
  std::unique_ptr<CgroupJob> job = MakeJob({0, 32, 0}, Variant(GetParam()));
  ASSERT_TRUE(job);
  // Only with a pids limit: an unbounded fork tree would hurt the machine, not the test.
  REQUIRE(job->enforces_pids(), job);
  HeldChild tree([](int) -> int {
    for (;;) {
      fork();  // every process keeps forking until pids.max refuses
      usleep(1000);
    }
  });
  ASSERT_TRUE(job->AddProcess(tree.pid()).ok());
  tree.Release();
  usleep(100 * 1000);
  EXPECT_GT(job->Pids().size(), 8u);
  ASSERT_TRUE(job->KillAll().ok());
  EXPECT_TRUE(job->Pids().empty());
  EXPECT_EQ(tree.Wait().signal, SIGKILL);
  EXPECT_TRUE(job->Remove().ok());
}

TEST_P(LinuxCgroupJobKill, DestructorKillsAndRemoves) {
  std::unique_ptr<CgroupJob> job = MakeJob({0, 64, 0}, Variant(GetParam()));
  ASSERT_TRUE(job);
  REQUIRE(job->kind() != JobKind::kNone, job);
  std::string dir = job->v2_dir();
  HeldChild sleeper([](int) -> int {
    for (;;) pause();
  });
  ASSERT_TRUE(job->AddProcess(sleeper.pid()).ok());
  sleeper.Release();
  job.reset();
  EXPECT_EQ(sleeper.Wait().signal, SIGKILL);
  struct stat st {};
  if (!dir.empty()) {
    EXPECT_NE(stat(dir.c_str(), &st), 0);
  }
}

TEST_F(LinuxCgroupJob, AddingAMissingProcessFails) {
  std::unique_ptr<CgroupJob> job = MakeJob({0, 64, 0});
  ASSERT_TRUE(job);
  REQUIRE(job->kind() != JobKind::kNone, job);
  EXPECT_FALSE(job->AddProcess(0x3ffffff0).ok());
}

}  // namespace
}  // namespace cordon
