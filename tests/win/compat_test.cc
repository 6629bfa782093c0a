// The POSIX pieces the Windows build supplies itself: fnmatch, SHA-256 on BCrypt, and
// realpath/stat over policy-form paths (used by PolicyBuilder::Build).
#include <gtest/gtest.h>
#include <windows.h>

#include "fnmatch.h"
#include "sandbox/ops/sha256.h"
#include "sandbox/policy.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {
namespace {

TEST(Compat, Fnmatch) {
  EXPECT_EQ(fnmatch("*KEY*", "AWS_ACCESS_KEY_ID", FNM_CASEFOLD), 0);
  EXPECT_EQ(fnmatch("*key*", "MY_KEY", FNM_CASEFOLD), 0);
  EXPECT_NE(fnmatch("*key*", "MY_KEY", 0), 0);
  EXPECT_EQ(fnmatch("a?c", "abc", 0), 0);
  EXPECT_EQ(fnmatch("[a-c]x", "bx", 0), 0);
  EXPECT_NE(fnmatch("[!a-c]x", "bx", 0), 0);
  EXPECT_NE(fnmatch("PATH", "PATHEXT", 0), 0);
}

TEST(Compat, Sha256) {
  EXPECT_EQ(ops::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(ops::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Compat, PolicyBuildsWithWindowsRoots) {
  wchar_t tmp[MAX_PATH];
  ASSERT_NE(::GetTempPathW(MAX_PATH, tmp), 0u);
  std::wstring dir = std::wstring(tmp) + L"cordon-policy-test";
  ::CreateDirectoryW(dir.c_str(), nullptr);
  auto root = ToPolicyPath(dir);
  ASSERT_TRUE(root.ok()) << root.error().detail;
  auto policy = PolicyBuilder().WorkspaceRoot(*root).Build();
  ASSERT_TRUE(policy.ok()) << policy.error().detail;
  ASSERT_EQ(policy->workspace_roots().size(), 1u);
  // Canonicalised through the handle: same directory, drive form, no trailing separator.
  EXPECT_EQ(AsciiLower(policy->workspace_roots()[0]), AsciiLower(*root));
  EXPECT_TRUE(policy->IsWritable(*root + "/src/main.cc"));
  EXPECT_FALSE(policy->IsWritable(*root + "/.git/config"));
}

}  // namespace
}  // namespace cordon::win
