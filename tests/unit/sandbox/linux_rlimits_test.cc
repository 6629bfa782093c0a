#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include <ctime>
#include <string>

#include "sandbox/linux/rlimits.h"
#include "sandbox/unique_fd.h"
#include "tests/unit/sandbox/linux_test_child.h"

namespace cordon {
namespace {

using testing::kSetupFailed;
using testing::RunInChild;

ResourceLimits Unlimited() {
  ResourceLimits limits;
  limits.memory_bytes = 0;
  limits.max_processes = 0;
  limits.cpu_seconds = 0;
  limits.max_file_bytes = 0;
  limits.max_open_files = 0;
  return limits;
}

testing::ChildExit Under(const ResourceLimits& limits, bool cgroup,
                         const std::function<int()>& probe) {
  return RunInChild([&] {
    if (!ApplyCommandRlimits(limits, cgroup).ok()) return kSetupFailed;
    return probe();
  });
}

TEST(LinuxRlimits, FileSizeLimitStopsAWrite) {
  std::string dir = testing::MakeTempDir();
  std::string file = dir + "/big";
  auto write_8k = [&] {
    signal(SIGXFSZ, SIG_IGN);
    UniqueFd fd(open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    static char block[8192];
    ssize_t n = write(fd.get(), block, sizeof block);
    if (n < 0) return errno;
    return n == static_cast<ssize_t>(sizeof block) ? 0 : EFBIG;  // a short write hit the limit
  };
  ResourceLimits small = Unlimited();
  small.max_file_bytes = 4096;
  EXPECT_TRUE(Under(small, true, write_8k).Exited(EFBIG));
  EXPECT_TRUE(Under(Unlimited(), true, write_8k).Exited(0));
  testing::RemoveTree(dir);
}

TEST(LinuxRlimits, OpenFilesLimit) {
  auto open_64 = [] {
    for (int i = 0; i < 64; ++i) {
      if (open("/dev/null", O_RDONLY) < 0) return errno;  // leaked on purpose: the child exits
    }
    return 0;
  };
  ResourceLimits few = Unlimited();
  few.max_open_files = 32;
  EXPECT_TRUE(Under(few, true, open_64).Exited(EMFILE));
  EXPECT_TRUE(Under(Unlimited(), true, open_64).Exited(0));
}

TEST(LinuxRlimits, NoCoreDumps) {
  EXPECT_TRUE(Under(Unlimited(), true, [] {
                rlimit core{};
                getrlimit(RLIMIT_CORE, &core);
                return core.rlim_cur == 0 && core.rlim_max == 0 ? 0 : 1;
              }).Exited(0));
}

double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

TEST(LinuxRlimits, CpuLimitKillsASpinningCommand) {
  auto spin = [] {
    while (CpuSeconds() < 1.5) {
    }
    return 0;
  };
  ResourceLimits one = Unlimited();
  one.cpu_seconds = 1;
  testing::ChildExit killed = Under(one, true, spin);
  EXPECT_TRUE(killed.signal == SIGXCPU || killed.signal == SIGKILL) << killed.signal;
  EXPECT_TRUE(Under(Unlimited(), true, spin).Exited(0));
}

TEST(LinuxRlimits, AddressSpaceOnlyWithoutACgroup) {
  auto map_512m = [] {
    void* p = mmap(nullptr, 512ull << 20, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return errno;
    munmap(p, 512ull << 20);
    return 0;
  };
  ResourceLimits limits = Unlimited();
  limits.memory_bytes = 256ull << 20;
  EXPECT_TRUE(Under(limits, false, map_512m).Exited(ENOMEM));
  EXPECT_TRUE(Under(limits, true, map_512m).Exited(0));
}

TEST(LinuxRlimits, ProcessCountOnlyWithoutACgroup) {
  auto nproc = [] {
    rlimit r{};
    getrlimit(RLIMIT_NPROC, &r);
    return r.rlim_cur == 77 ? 0 : 1;
  };
  ResourceLimits limits = Unlimited();
  limits.max_processes = 77;
  EXPECT_TRUE(Under(limits, false, nproc).Exited(0));
  EXPECT_TRUE(Under(limits, true, nproc).Exited(1));
}

TEST(LinuxRlimits, NeverRaisesAboveTheHardLimit) {
  EXPECT_TRUE(RunInChild([] {
                rlimit low{64, 64};
                if (setrlimit(RLIMIT_NOFILE, &low) != 0) return kSetupFailed;
                ResourceLimits limits = Unlimited();
                limits.max_open_files = 4096;
                if (!ApplyCommandRlimits(limits, true).ok()) return 1;
                rlimit now{};
                getrlimit(RLIMIT_NOFILE, &now);
                return now.rlim_cur == 64 && now.rlim_max == 64 ? 0 : 2;
              }).Exited(0));
}

TEST(LinuxRlimits, DegradationsNamedOnlyWithoutACgroup) {
  ResourceLimits limits;
  EXPECT_TRUE(RlimitDegradations(limits, true).empty());
  std::vector<std::string> gaps = RlimitDegradations(limits, false);
  ASSERT_EQ(gaps.size(), 2u);
  EXPECT_NE(gaps[0].find("memory limit is per process"), std::string::npos);
  EXPECT_NE(gaps[1].find("per uid"), std::string::npos);
}

}  // namespace
}  // namespace cordon
