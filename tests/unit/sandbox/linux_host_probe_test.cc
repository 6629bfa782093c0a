#include <gtest/gtest.h>
#include <linux/landlock.h>
#include <sched.h>
#include <sys/syscall.h>

#include <fstream>

#include "sandbox/linux/host_probe.h"
#include "tests/unit/sandbox/linux_test_child.h"

namespace cordon {
namespace {

using testing::RunInChild;

TEST(LinuxHostProbe, CachedOnce) {
  const HostFeatures& a = ProbeHostOnce();
  const HostFeatures& b = ProbeHostOnce();
  EXPECT_EQ(&a, &b);
  EXPECT_FALSE(a.kernel_release.empty());
}

TEST(LinuxHostProbe, EveryMissingFeatureHasAReason) {
  const HostFeatures& host = ProbeHostOnce();
  if (host.landlock_abi == 0) {
    EXPECT_FALSE(host.landlock_reason.empty());
  }
  if (!host.user_namespaces) {
    EXPECT_FALSE(host.user_namespaces_reason.empty());
  }
  if (!host.network_namespaces) {
    EXPECT_FALSE(host.network_namespaces_reason.empty());
  }
  if (!host.seccomp) {
    EXPECT_FALSE(host.seccomp_reason.empty());
  }
  if (host.cgroup.Version() == "none") {
    EXPECT_FALSE(host.cgroup.reason.empty());
  }
}

TEST(LinuxHostProbe, LandlockAbiMatchesTheKernel) {
  long abi = syscall(__NR_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  EXPECT_EQ(ProbeHostOnce().landlock_abi, abi > 0 ? abi : 0);
}

// The probe's verdict is checked against a second, independent attempt.
TEST(LinuxHostProbe, UserNamespaceVerdictMatchesReality) {
  int rc = RunInChild([] { return testing::ErrnoOf(unshare(CLONE_NEWUSER)); }).code;
  EXPECT_EQ(ProbeHostOnce().user_namespaces, rc == 0) << ProbeHostOnce().user_namespaces_reason;
}

TEST(LinuxHostProbe, SeccompAndNoNewPrivsOnThisKernel) {
  const HostFeatures& host = ProbeHostOnce();
  EXPECT_TRUE(host.seccomp) << host.seccomp_reason;
  EXPECT_TRUE(host.no_new_privs);
}

TEST(LinuxHostProbe, CgroupBasesAreOurOwnCgroups) {
  const CgroupHost& cg = ProbeHostOnce().cgroup;
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    for (const auto& [controller, base] : cg.v1_bases) {
      std::string tag = ":" + controller + ":";
      size_t at = line.find(tag);
      if (at == std::string::npos) continue;
      std::string path = line.substr(at + tag.size());
      if (path == "/") path.clear();
      EXPECT_EQ(base.substr(base.size() - path.size()), path) << controller;
    }
  }
  if (cg.v2_writable) {
    EXPECT_FALSE(cg.v2_base.empty());
  }
  if (getuid() != 0 && cg.Version() == "none") {
    EXPECT_FALSE(cg.reason.empty());
  }
}

TEST(LinuxHostProbe, JsonHasTheProtocolFields) {
  nlohmann::json json = ToJson(ProbeHostOnce());
  ASSERT_TRUE(json.contains("landlockAbi"));
  EXPECT_TRUE(json["landlockAbi"].is_number_integer());
  EXPECT_TRUE(json["userNamespaces"].is_boolean());
  EXPECT_TRUE(json["seccomp"].is_boolean());
  std::string cgroup = json["cgroup"];
  EXPECT_TRUE(cgroup == "v2" || cgroup == "v1" || cgroup == "none") << cgroup;
  EXPECT_TRUE(json["kernel"].is_string());
  EXPECT_TRUE(json["cgroupDetail"]["hybrid"].is_boolean());
  EXPECT_TRUE(json["reasons"].is_object());
}

}  // namespace
}  // namespace cordon
