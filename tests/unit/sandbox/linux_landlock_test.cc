#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cstddef>
#include <cstring>

#include "sandbox/linux/host_probe.h"
#include "sandbox/linux/landlock.h"
#include "sandbox/unique_fd.h"
#include "tests/unit/sandbox/linux_test_child.h"

namespace cordon {
namespace {

using testing::ErrnoOf;
using testing::kSetupFailed;
using testing::RunInChild;

int Abi() { return ProbeHostOnce().landlock_abi; }

#define REQUIRE_ABI(n)                                                           \
  if (Abi() < (n))                                                               \
  GTEST_SKIP() << "needs Landlock ABI " << (n) << ", host has " << Abi() << ": " \
               << ProbeHostOnce().landlock_reason

int WriteFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd) return errno;
  return write(fd.get(), "x", 1) == 1 ? 0 : errno;
}

class LinuxLandlock : public ::testing::Test {
 protected:
  void SetUp() override {
    inside_ = testing::MakeTempDir();
    outside_ = testing::MakeTempDir();
    ASSERT_FALSE(inside_.empty());
    ASSERT_FALSE(outside_.empty());
  }
  void TearDown() override {
    testing::RemoveTree(inside_);
    testing::RemoveTree(outside_);
  }
  LandlockRules Rules() const {
    LandlockRules rules;
    rules.read_only = {"/"};
    rules.read_write = {inside_};
    return rules;
  }
  // Applies `rules` in a child, then runs `probe` there.
  static testing::ChildExit Under(const LandlockRules& rules, const std::function<int()>& probe) {
    return RunInChild([&] {
      if (!ApplyLandlock(rules, Abi()).ok()) return kSetupFailed;
      return probe();
    });
  }
  std::string inside_;
  std::string outside_;
};

TEST_F(LinuxLandlock, WriteOutsideWritableRootsIsDeniedInsideAllowed) {
  REQUIRE_ABI(1);
  std::string out = outside_ + "/f";
  std::string in = inside_ + "/f";
  EXPECT_TRUE(Under(Rules(), [&] { return WriteFile(out); }).Exited(EACCES));
  EXPECT_TRUE(Under(Rules(), [&] { return WriteFile(in); }).Exited(0));
  // Control: the same write outside succeeds when that directory is granted.
  LandlockRules both = Rules();
  both.read_write.push_back(outside_);
  EXPECT_TRUE(Under(both, [&] { return WriteFile(out); }).Exited(0));
}

TEST_F(LinuxLandlock, ReadAndExecuteStillWorkOutside) {
  REQUIRE_ABI(1);
  ASSERT_EQ(WriteFile(outside_ + "/r"), 0);
  std::string path = outside_ + "/r";
  EXPECT_TRUE(Under(Rules(), [&] {
                UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
                return fd ? 0 : errno;
              }).Exited(0));
  EXPECT_TRUE(Under(Rules(), [] {
                pid_t pid = fork();
                if (pid == 0) {
                  execl("/bin/true", "true", static_cast<char*>(nullptr));
                  _exit(127);
                }
                int status = 0;
                waitpid(pid, &status, 0);
                return WIFEXITED(status) ? WEXITSTATUS(status) : kSetupFailed;
              }).Exited(0));
}

TEST_F(LinuxLandlock, TruncateAndRemoveOutsideDenied) {
  REQUIRE_ABI(3);
  std::string file = outside_ + "/t";
  ASSERT_EQ(WriteFile(file), 0);
  EXPECT_TRUE(Under(Rules(), [&] { return ErrnoOf(truncate(file.c_str(), 0)); }).Exited(EACCES));
  EXPECT_TRUE(Under(Rules(), [&] { return ErrnoOf(unlink(file.c_str())); }).Exited(EACCES));
  std::string mine = inside_ + "/t";
  ASSERT_EQ(WriteFile(mine), 0);
  EXPECT_TRUE(Under(Rules(), [&] { return ErrnoOf(truncate(mine.c_str(), 0)); }).Exited(0));
  EXPECT_TRUE(Under(Rules(), [&] { return ErrnoOf(unlink(mine.c_str())); }).Exited(0));
}

TEST_F(LinuxLandlock, RenameOutOfWritableRootDenied) {
  REQUIRE_ABI(2);
  std::string from = inside_ + "/m";
  ASSERT_EQ(WriteFile(from), 0);
  std::string to = outside_ + "/m";
  testing::ChildExit moved =
      Under(Rules(), [&] { return ErrnoOf(rename(from.c_str(), to.c_str())); });
  EXPECT_TRUE(moved.Exited(EACCES) || moved.Exited(EXDEV)) << moved.code;
  LandlockRules both = Rules();
  both.read_write.push_back(outside_);
  EXPECT_TRUE(Under(both, [&] { return ErrnoOf(rename(from.c_str(), to.c_str())); }).Exited(0));
}

TEST_F(LinuxLandlock, DeviceNodesNeedAnExplicitRule) {
  REQUIRE_ABI(1);
  auto open_null = [] {
    UniqueFd fd(open("/dev/null", O_WRONLY | O_CLOEXEC));
    return fd ? 0 : errno;
  };
  EXPECT_TRUE(Under(Rules(), open_null).Exited(EACCES));
  LandlockRules rules = Rules();
  rules.read_write.push_back("/dev/null");  // a file rule: directory rights are masked off
  EXPECT_TRUE(Under(rules, open_null).Exited(0));
}

TEST_F(LinuxLandlock, MissingPathsAreSkipped) {
  REQUIRE_ABI(1);
  LandlockRules rules = Rules();
  rules.read_write.push_back(inside_ + "/does-not-exist");
  EXPECT_TRUE(Under(rules, [&] { return WriteFile(inside_ + "/f"); }).Exited(0));
}

// A listener outside the sandbox on 127.0.0.1; the child only tries to connect.
class LoopbackListener {
 public:
  LoopbackListener() {
    fd_ = UniqueFd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) return;
    if (listen(fd_.get(), 8) != 0) return;
    getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&addr), &len);
    addr_ = addr;
  }
  int Connect() const {
    UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s) return errno;
    return ErrnoOf(connect(s.get(), reinterpret_cast<const sockaddr*>(&addr_), sizeof addr_));
  }
  bool ok() const { return addr_.sin_port != 0; }

 private:
  UniqueFd fd_;
  sockaddr_in addr_{};
};

TEST_F(LinuxLandlock, TcpConnectDeniedWithNetworkOffAllowedWithItOn) {
  REQUIRE_ABI(4);
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  LandlockRules off = Rules();
  off.deny_tcp = true;
  EXPECT_TRUE(Under(off, [&] { return listener.Connect(); }).Exited(EACCES));
  LandlockRules on = Rules();
  on.deny_tcp = false;
  EXPECT_TRUE(Under(on, [&] { return listener.Connect(); }).Exited(0));
}

TEST_F(LinuxLandlock, TcpBindDeniedWithNetworkOff) {
  REQUIRE_ABI(4);
  auto bind_any = [] {
    UniqueFd s(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return ErrnoOf(bind(s.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr));
  };
  EXPECT_TRUE(Under(Rules(), bind_any).Exited(EACCES));
  LandlockRules on = Rules();
  on.deny_tcp = false;
  EXPECT_TRUE(Under(on, bind_any).Exited(0));
}

TEST_F(LinuxLandlock, SignalToParentBlockedByScope) {
  REQUIRE_ABI(6);
  EXPECT_TRUE(Under(Rules(), [] { return ErrnoOf(kill(getppid(), 0)); }).Exited(EPERM));
  LandlockRules open = Rules();
  open.scope_ipc = false;
  EXPECT_TRUE(Under(open, [] { return ErrnoOf(kill(getppid(), 0)); }).Exited(0));
}

TEST_F(LinuxLandlock, AbstractUnixSocketOutsideBlockedByScope) {
  REQUIRE_ABI(6);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string name = "cordon-landlock-test-" + std::to_string(getpid());
  std::memcpy(addr.sun_path + 1, name.data(), name.size());
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  UniqueFd listener(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(listen(listener.get(), 8), 0);
  auto connect_outside = [&] {
    UniqueFd s(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return ErrnoOf(connect(s.get(), reinterpret_cast<sockaddr*>(&addr), len));
  };
  EXPECT_TRUE(Under(Rules(), connect_outside).Exited(EPERM));
  LandlockRules open = Rules();
  open.scope_ipc = false;
  EXPECT_TRUE(Under(open, connect_outside).Exited(0));
}

TEST(LinuxLandlockAbi, ZeroAbiFailsOnlyWhenRequired) {
  LandlockRules rules;
  rules.required = true;
  Status s = ApplyLandlock(rules, 0);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().kind, ErrorKind::kUnsupported);
  rules.required = false;
  EXPECT_TRUE(ApplyLandlock(rules, 0).ok());
}

TEST(LinuxLandlockAbi, RightsGrowWithTheAbi) {
  EXPECT_EQ(LandlockFsRights(0), 0u);
  EXPECT_EQ(LandlockFsRights(1), (1ull << 13) - 1);
  EXPECT_TRUE(LandlockFsRights(2) & (1ull << 13));  // refer
  EXPECT_EQ(LandlockFsRights(3), (1ull << 15) - 1);
  EXPECT_EQ(LandlockFsRights(5), (1ull << 16) - 1);
  EXPECT_EQ(LandlockFsRights(7), LandlockFsRights(5));
}

TEST(LinuxLandlockAbi, RulesForPolicy) {
  std::string root = testing::MakeTempDir();
  ASSERT_FALSE(root.empty());
  Result<Policy> policy = PolicyBuilder().WorkspaceRoot(root).Network(NetworkMode::kNone).Build();
  ASSERT_TRUE(policy.ok()) << policy.error().detail;
  LandlockRules rules = RulesForPolicy(*policy, {"/dev/null", "/tmp"});
  EXPECT_EQ(rules.read_only, std::vector<std::string>{"/"});
  EXPECT_NE(std::find(rules.read_write.begin(), rules.read_write.end(), "/dev/null"),
            rules.read_write.end());
  EXPECT_EQ(rules.read_write.size(), policy->writable_roots().size() + 2);
  EXPECT_TRUE(rules.deny_tcp);
  EXPECT_TRUE(rules.scope_ipc);
  EXPECT_TRUE(rules.required);
  Result<Policy> online = PolicyBuilder().WorkspaceRoot(root).Network(NetworkMode::kFull).Build();
  ASSERT_TRUE(online.ok());
  EXPECT_FALSE(RulesForPolicy(*online, {}).deny_tcp);
  testing::RemoveTree(root);
}

}  // namespace
}  // namespace cordon
