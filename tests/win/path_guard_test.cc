// Path refusal and canonicalisation. Every special spelling is refused with policy_denied;
// real objects are judged by their canonical path (short names, case, links resolved).
#include <gtest/gtest.h>
#include <windows.h>
// after windows.h
#include <winioctl.h>

#include <cstdlib>

#include "sandbox/win/path_form.h"
#include "sandbox/win/path_guard.h"
#include "sandbox/win/scoped_handle.h"
#include "tests/win/test_util.h"

namespace cordon::win {
namespace {

class PathGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = testing::MakeTempDir(L"guard");
    ws_ = base_ + L"\\workspace";
    outside_ = base_ + L"\\outsidelongdirectoryname";
    ::CreateDirectoryW(ws_.c_str(), nullptr);
    ::CreateDirectoryW((ws_ + L"\\.git").c_str(), nullptr);
    ::CreateDirectoryW((ws_ + L"\\src").c_str(), nullptr);
    ::CreateDirectoryW(outside_.c_str(), nullptr);
    auto root = ToPolicyPath(ws_);
    ASSERT_TRUE(root.ok());
    auto p = PolicyBuilder().WorkspaceRoot(*root).Build();
    ASSERT_TRUE(p.ok()) << p.error().detail;
    policy_ = std::move(p).value();
    ws_policy_ = policy_.workspace_roots()[0];
  }

  Result<ResolvedPath> Write(const std::string& path) {
    return ResolveForPolicy(policy_, path, PathAccess::kWrite);
  }
  void ExpectDenied(const std::string& path) {
    auto r = Write(path);
    ASSERT_FALSE(r.ok()) << path << " was accepted as " << r->policy_path;
    EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied) << path << ": " << r.error().detail;
  }

  std::wstring base_, ws_, outside_;
  Policy policy_;
  std::string ws_policy_;
};

TEST_F(PathGuardTest, AcceptsPlainPathsInsideTheWorkspace) {
  auto r = Write(ws_policy_ + "/src/new.cc");
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_FALSE(r->exists);
  EXPECT_TRUE(PathWithinFolded(r->policy_path, ws_policy_));
  auto rel = Write("src/new.cc");
  ASSERT_TRUE(rel.ok()) << rel.error().detail;
  EXPECT_EQ(rel->policy_path, r->policy_path);
  auto win = Write(WideToUtf8(ws_) + "\\src");
  ASSERT_TRUE(win.ok()) << win.error().detail;
  EXPECT_TRUE(win->exists);
}

TEST_F(PathGuardTest, RefusesSpecialSpellings) {
  std::string ws = WideToUtf8(ws_);
  for (const std::string& p : {
           "\\\\?\\" + ws + "\\src\\a.cc",   // verbatim prefix
           "\\\\.\\" + ws + "\\src\\a.cc",   // device namespace
           std::string("\\\\.\\PhysicalDrive0"),
           std::string("\\??\\C:\\x"),
           ws + "\\src\\CON",               // device names, any case, with extension
           ws + "\\src\\nul.txt",
           ws + "\\src\\Com1",
           ws + "\\src\\LPT9.log",
           ws + "\\src\\conin$",
           ws + "\\src\\a.cc.",             // trailing dot
           ws + "\\src\\a.cc ",             // trailing space
           ws + "\\src.\\a.cc",
           ws + "\\src\\a.cc:stream",       // alternate data stream
           ws + "\\src\\a.cc::$DATA",
           ws + "\\src\\..\\..\\x",          // parent components
           ws + "\\src\\a*.cc",             // wildcards
       }) {
    ExpectDenied(p);
  }
}

TEST_F(PathGuardTest, RefusesOutsideProtectedAndCaseVariants) {
  ExpectDenied(WideToUtf8(outside_) + "\\x.txt");
  ExpectDenied(ws_policy_ + "/.git/config");
  ExpectDenied(ws_policy_ + "/.GIT/config");  // NTFS is case-insensitive
  // Reading outside the writable roots is allowed (the design's read model), writing not.
  EXPECT_TRUE(ResolveForPolicy(policy_, WideToUtf8(outside_), PathAccess::kRead).ok());
}

TEST_F(PathGuardTest, ShortNameResolvingOutsideIsRefused) {
  wchar_t shortbuf[MAX_PATH];
  DWORD n = ::GetShortPathNameW(outside_.c_str(), shortbuf, MAX_PATH);
  if (n == 0 || std::wstring(shortbuf, n) == outside_) GTEST_SKIP() << "no 8.3 names on this volume";
  std::string short_path = WideToUtf8(std::wstring(shortbuf, n));
  auto r = ResolveForPolicy(policy_, short_path + "\\x.txt", PathAccess::kRead);
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_NE(AsciiLower(r->policy_path).find("outsidelongdirectoryname"), std::string::npos)
      << "canonicalised to the long name: " << r->policy_path;
  ExpectDenied(short_path + "\\x.txt");
}

// A link inside the workspace whose target is outside: a junction on Windows, a symbolic link
// elsewhere. Skipped when this host can create neither.
bool MakeJunction(const std::wstring& link, const std::wstring& target) {
  if (!::CreateDirectoryW(link.c_str(), nullptr)) return false;
  ScopedHandle h(::CreateFileW(link.c_str(), GENERIC_WRITE, 0, nullptr, OPEN_EXISTING,
                               FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, nullptr));
  if (!h) return false;
  std::wstring subst = L"\\??\\" + target;
  std::vector<BYTE> buf(8 + 8 + (subst.size() + 2) * sizeof(wchar_t) + 4, 0);
  auto* words = reinterpret_cast<USHORT*>(buf.data());
  *reinterpret_cast<DWORD*>(buf.data()) = IO_REPARSE_TAG_MOUNT_POINT;
  USHORT subst_bytes = static_cast<USHORT>(subst.size() * sizeof(wchar_t));
  words[2] = static_cast<USHORT>(8 + subst_bytes + 2 * sizeof(wchar_t));  // ReparseDataLength
  words[4] = 0;                                                          // SubstituteNameOffset
  words[5] = subst_bytes;                                                // SubstituteNameLength
  words[6] = static_cast<USHORT>(subst_bytes + sizeof(wchar_t));         // PrintNameOffset
  words[7] = 0;                                                          // PrintNameLength
  memcpy(buf.data() + 16, subst.c_str(), subst_bytes);
  DWORD ret = 0;
  return ::DeviceIoControl(h.get(), FSCTL_SET_REPARSE_POINT, buf.data(), 8 + words[2], nullptr, 0, &ret,
                           nullptr) != FALSE;
}

TEST_F(PathGuardTest, LinkLeadingOutsideIsRefused) {
  std::wstring link = ws_ + L"\\escape";
  bool made = ::CreateSymbolicLinkW(link.c_str(), outside_.c_str(),
                                    SYMBOLIC_LINK_FLAG_DIRECTORY | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE);
  // Wine's CreateSymbolicLinkW reports success without creating anything: check the result.
  made = made && ::GetFileAttributesW(link.c_str()) != INVALID_FILE_ATTRIBUTES;
  if (!made) {
    ::RemoveDirectoryW(link.c_str());
    made = MakeJunction(link, outside_) && ::GetFileAttributesW((link + L"\\..").c_str()) != INVALID_FILE_ATTRIBUTES;
  }
  // run.sh also plants a Unix symlink fixture that Wine presents as a reparse point.
  std::string fixture;
  if (const char* f = std::getenv("CORDON_WIN_LINK_FIXTURE")) fixture = f;
  if (!made && fixture.empty()) GTEST_SKIP() << "cannot create links here";
  if (made) {
    auto r = ResolveForPolicy(policy_, WideToUtf8(link) + "\\x.txt", PathAccess::kRead);
    ASSERT_TRUE(r.ok()) << r.error().detail;
    EXPECT_NE(AsciiLower(r->policy_path).find("outsidelongdirectoryname"), std::string::npos) << r->policy_path;
    ExpectDenied(WideToUtf8(link) + "\\x.txt");
  }
  if (!fixture.empty()) {
    // fixture = "<workspace>;<link inside it pointing outside>"
    auto semi = fixture.find(';');
    ASSERT_NE(semi, std::string::npos);
    auto root = ToPolicyPath(Utf8ToWide(fixture.substr(0, semi)));
    ASSERT_TRUE(root.ok());
    auto p = PolicyBuilder().WorkspaceRoot(*root).Build();
    ASSERT_TRUE(p.ok()) << p.error().detail;
    auto ok_inside = ResolveForPolicy(*p, fixture.substr(0, semi) + "\\inside.txt", PathAccess::kWrite);
    EXPECT_TRUE(ok_inside.ok()) << ok_inside.error().detail;
    auto r = ResolveForPolicy(*p, fixture.substr(semi + 1) + "\\x.txt", PathAccess::kWrite);
    ASSERT_FALSE(r.ok()) << "accepted as " << r->policy_path;
    EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied);
  }
}

TEST(PathSpelling, LexicalOnly) {
  EXPECT_TRUE(CheckPathSpelling("C:\\Users\\me\\file.txt").ok());
  EXPECT_TRUE(CheckPathSpelling("/C:/Users/me/file.txt").ok());
  EXPECT_TRUE(CheckPathSpelling("\\\\server\\share\\dir\\f").ok());
  EXPECT_EQ(CheckPathSpelling("C:\\x\\AUX").error().kind, ErrorKind::kPolicyDenied);
  EXPECT_EQ(CheckPathSpelling("C:\\x\\COM\xC2\xB9").error().kind, ErrorKind::kPolicyDenied);
  EXPECT_EQ(CheckPathSpelling("C:relative").error().kind, ErrorKind::kPolicyDenied);
  EXPECT_EQ(CheckPathSpelling("relative\\x").error().kind, ErrorKind::kInvalidArgument);
  EXPECT_TRUE(CheckPathSpelling("C:\\x\\console.txt").ok());
  EXPECT_TRUE(CheckPathSpelling("C:\\x\\com10").ok());
}

}  // namespace
}  // namespace cordon::win
