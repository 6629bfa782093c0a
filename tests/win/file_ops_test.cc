// File operations of a Windows session through WinSession::RunOperation (what `cordon serve`
// calls for fs/* and patch/apply): the shared ops/ code over the Windows primitives. Every
// refusal is paired with a control showing the same operation succeeds on an allowed path.
#include <gtest/gtest.h>
#include <windows.h>

#include <algorithm>
#include <cstdlib>

#include "sandbox/backend.h"
#include "sandbox/win/path_form.h"
#include "tests/win/test_util.h"

namespace cordon {
namespace {

using nlohmann::json;

std::string Slurp(const std::wstring& path) {
  HANDLE h = ::CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ, nullptr, OPEN_EXISTING, 0, nullptr);
  if (h == INVALID_HANDLE_VALUE) return "<missing>";
  std::string out;
  char buf[4096];
  DWORD n = 0;
  while (::ReadFile(h, buf, sizeof(buf), &n, nullptr) && n > 0) out.append(buf, n);
  ::CloseHandle(h);
  return out;
}

bool Exists(const std::wstring& path) { return ::GetFileAttributesW(path.c_str()) != INVALID_FILE_ATTRIBUTES; }

// Names in a directory (no "." / "..").
std::vector<std::string> Names(const std::wstring& dir) {
  std::vector<std::string> out;
  WIN32_FIND_DATAW fd;
  HANDLE h = ::FindFirstFileW((dir + L"\\*").c_str(), &fd);
  if (h == INVALID_HANDLE_VALUE) return out;
  do {
    std::wstring n = fd.cFileName;
    if (n != L"." && n != L"..") out.push_back(win::WideToUtf8(n));
  } while (::FindNextFileW(h, &fd));
  ::FindClose(h);
  return out;
}

class WinFileOpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = win::testing::MakeTempDir(L"fileops");
    ws_ = dir_ + L"\\ws";
    outside_ = dir_ + L"\\outsidelongdirectoryname";
    ::CreateDirectoryW(ws_.c_str(), nullptr);
    ::CreateDirectoryW((ws_ + L"\\src").c_str(), nullptr);
    ::CreateDirectoryW((ws_ + L"\\.git").c_str(), nullptr);
    ::CreateDirectoryW(outside_.c_str(), nullptr);
    ASSERT_TRUE(win::testing::WriteTextFile(ws_ + L"\\src\\a.txt", "one\ntwo\nthree\n"));
    ASSERT_TRUE(win::testing::WriteTextFile(ws_ + L"\\.git\\config", "[core]\n"));
    ASSERT_TRUE(win::testing::WriteTextFile(outside_ + L"\\secret.txt", "outside\n"));
    _putenv_s("CORDON_WIN_ACL_STATE", win::WideToUtf8(dir_ + L"\\acl-state.json").c_str());
    backend_ = MakeSandboxBackend();
    session_ = SessionFor(ws_);
    ASSERT_TRUE(session_);
  }
  void TearDown() override {
    if (session_) session_->Close();
  }

  std::shared_ptr<SandboxSession> SessionFor(const std::wstring& ws) {
    auto root = win::ToPolicyPath(ws);
    EXPECT_TRUE(root.ok());
    auto p = PolicyBuilder().WorkspaceRoot(*root).AllowDegraded(true).Build();
    EXPECT_TRUE(p.ok()) << p.error().detail;
    auto s = backend_->CreateSession(std::move(p).value());
    EXPECT_TRUE(s.ok()) << s.error().detail;
    return s.ok() ? *s : nullptr;
  }

  Result<json> Op(const std::string& op, const json& args) { return session_->RunOperation(op, args, nullptr); }
  void ExpectDenied(const std::string& op, const json& args) {
    auto r = Op(op, args);
    ASSERT_FALSE(r.ok()) << op << " " << args.dump() << " succeeded: " << r->dump();
    EXPECT_EQ(r.error().kind, ErrorKind::kPolicyDenied) << op << " " << args.dump() << ": " << r.error().detail;
  }
  void ExpectOk(const std::string& op, const json& args) {
    auto r = Op(op, args);
    EXPECT_TRUE(r.ok()) << op << " " << args.dump() << ": " << r.error().detail;
  }
  std::string W(const std::wstring& p) { return win::WideToUtf8(p); }

  std::wstring dir_, ws_, outside_;
  std::unique_ptr<SandboxBackend> backend_;
  std::shared_ptr<SandboxSession> session_;
};

TEST_F(WinFileOpsTest, ReadsListsAndDescribes) {
  auto r = Op("readFile", {{"path", "src/a.txt"}});
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ((*r)["content"], "one\ntwo\nthree\n");
  EXPECT_EQ((*r)["totalLines"], 3);
  EXPECT_EQ((*r)["size"], 14);
  EXPECT_EQ((*r)["sha256"], "b6285c57e8797db5d4c51c80d6f11938afda9b11c6a003549709189e9b4b92a2");
  auto part = Op("readFile", {{"path", W(ws_) + "\\src\\a.txt"}, {"offset", 2u}, {"limit", 1u}});
  ASSERT_TRUE(part.ok()) << part.error().detail;
  EXPECT_EQ((*part)["content"], "two\n");
  EXPECT_EQ((*part)["startLine"], 2);

  auto dir = Op("readDirectory", {{"path", "."}, {"depth", 2u}});
  ASSERT_TRUE(dir.ok()) << dir.error().detail;
  std::string listed;
  for (const auto& e : (*dir)["entries"]) listed += e["name"].get<std::string>() + ":" + e["type"].get<std::string>() + " ";
  EXPECT_NE(listed.find("src:dir"), std::string::npos) << listed;
  EXPECT_NE(listed.find("src/a.txt:file"), std::string::npos) << listed;

  auto md = Op("getMetadata", {{"path", "src/a.txt"}});
  ASSERT_TRUE(md.ok()) << md.error().detail;
  EXPECT_EQ((*md)["type"], "file");
  EXPECT_EQ((*md)["size"], 14);
  EXPECT_EQ((*md)["sha256"], (*r)["sha256"]);
  EXPECT_GT((*md)["mtimeMs"].get<int64_t>(), 1'500'000'000'000);
  auto mdd = Op("getMetadata", {{"path", "src"}});
  ASSERT_TRUE(mdd.ok()) << mdd.error().detail;
  EXPECT_EQ((*mdd)["type"], "dir");

  auto missing = Op("readFile", {{"path", "src/none.txt"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound) << missing.error().detail;
  auto bad = Op("readFile", {{"path", 5}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::kInvalidArgument);
}

TEST_F(WinFileOpsTest, WritesAtomicallyWithoutLeavingTemps) {
  auto w = Op("writeFile", {{"path", "src/a.txt"}, {"content", "new\n"}});
  ASSERT_TRUE(w.ok()) << w.error().detail;
  EXPECT_EQ((*w)["sha256"], "7aa7a5359173d05b63cfd682e3c38487f3cb4f7f1d60659fe59fab1505977d4c");
  EXPECT_EQ(Slurp(ws_ + L"\\src\\a.txt"), "new\n");
  auto created = Op("writeFile", {{"path", "deep/er/b.bin"}, {"content", "AAEC"}, {"encoding", "base64"},
                                  {"createParents", true}});
  ASSERT_TRUE(created.ok()) << created.error().detail;
  EXPECT_EQ(Slurp(ws_ + L"\\deep\\er\\b.bin"), std::string("\0\1\2", 3));
  auto no_parent = Op("writeFile", {{"path", "nodir/b.txt"}, {"content", "x"}});
  ASSERT_FALSE(no_parent.ok());
  EXPECT_EQ(no_parent.error().kind, ErrorKind::kNotFound) << no_parent.error().detail;
  // expectedSha256 guards against a concurrent edit.
  auto stale = Op("writeFile", {{"path", "src/a.txt"}, {"content", "x"},
                                {"expectedSha256", "b6285c57e8797db5d4c51c80d6f11938afda9b11c6a003549709189e9b4b92a2"}});
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.error().kind, ErrorKind::kConflict);
  auto fresh = Op("writeFile", {{"path", "src/a.txt"}, {"content", "x"}, {"expectedSha256", (*w)["sha256"]}});
  EXPECT_TRUE(fresh.ok()) << fresh.error().detail;
  EXPECT_EQ(Names(ws_ + L"\\src"), std::vector<std::string>{"a.txt"});
}

TEST_F(WinFileOpsTest, RefusesSpecialSpellingsWithAControl) {
  const std::string ws = W(ws_);
  ExpectOk("readFile", {{"path", ws + "\\src\\a.txt"}});
  ExpectOk("writeFile", {{"path", ws + "\\src\\ok.txt"}, {"content", "ok"}});
  for (const std::string& p : {"\\\\?\\" + ws + "\\src\\a.txt", "\\\\.\\" + ws + "\\src\\a.txt",
                               ws + "\\src\\CON", ws + "\\src\\nul.txt", ws + "\\src\\COM1",
                               ws + "\\src\\a.txt.", ws + "\\src\\a.txt ", ws + "\\src\\a.txt:stream",
                               ws + "\\src\\a.txt::$DATA", ws + "\\src\\..\\..\\x"}) {
    ExpectDenied("readFile", {{"path", p}});
    ExpectDenied("writeFile", {{"path", p}, {"content", "x"}});
    ExpectDenied("getMetadata", {{"path", p}});
  }
  ExpectDenied("applyPatch", {{"patch", "*** Begin Patch\n*** Add File: src/b.txt:ads\n+x\n*** End Patch\n"}});
  // Nothing was created by any refused write (no stream, no device, no dotted alias).
  auto names = Names(ws_ + L"\\src");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "ok.txt"}));
  EXPECT_EQ(Slurp(ws_ + L"\\src\\a.txt"), "one\ntwo\nthree\n");
}

TEST_F(WinFileOpsTest, OutsideAndProtectedAreRefusedWithAControl) {
  ExpectDenied("readFile", {{"path", W(outside_) + "\\secret.txt"}});
  ExpectDenied("readDirectory", {{"path", W(outside_)}});
  ExpectDenied("writeFile", {{"path", W(outside_) + "\\new.txt"}, {"content", "x"}});
  ExpectDenied("writeFile", {{"path", ".git/config"}, {"content", "x"}});
  ExpectDenied("writeFile", {{"path", ".GIT/hooks/x"}, {"content", "x"}, {"createParents", true}});
  ExpectDenied("applyPatch", {{"patch", "*** Begin Patch\n*** Add File: .git/x\n+x\n*** End Patch\n"}});
  EXPECT_FALSE(Exists(outside_ + L"\\new.txt"));
  EXPECT_FALSE(Exists(ws_ + L"\\.git\\hooks"));
  EXPECT_EQ(Slurp(ws_ + L"\\.git\\config"), "[core]\n");
  // Controls: the protected file is readable, and a session whose workspace is the outside
  // directory reads and writes there.
  ExpectOk("readFile", {{"path", ".git/config"}});
  auto other = SessionFor(outside_);
  ASSERT_TRUE(other);
  EXPECT_TRUE(other->RunOperation("readFile", {{"path", "secret.txt"}}, nullptr).ok());
  EXPECT_TRUE(other->RunOperation("writeFile", {{"path", "new.txt"}, {"content", "x"}}, nullptr).ok());
  other->Close();
}

TEST_F(WinFileOpsTest, ShortNamesAreJudgedByTheirLongName) {
  wchar_t buf[MAX_PATH];
  DWORD n = ::GetShortPathNameW(outside_.c_str(), buf, MAX_PATH);
  if (n == 0 || std::wstring(buf, n) == outside_) GTEST_SKIP() << "no 8.3 names on this volume";
  const std::string short_outside = W(std::wstring(buf, n));
  ExpectDenied("readFile", {{"path", short_outside + "\\secret.txt"}});
  ExpectDenied("writeFile", {{"path", short_outside + "\\x.txt"}, {"content", "x"}});
  // Control: the short name of a workspace directory resolves to its long name and works.
  ::CreateDirectoryW((ws_ + L"\\longsubdirectoryname").c_str(), nullptr);
  n = ::GetShortPathNameW((ws_ + L"\\longsubdirectoryname").c_str(), buf, MAX_PATH);
  ASSERT_GT(n, 0u);
  ExpectOk("writeFile", {{"path", W(std::wstring(buf, n)) + "\\f.txt"}, {"content", "y"}});
  EXPECT_EQ(Slurp(ws_ + L"\\longsubdirectoryname\\f.txt"), "y");
}

// run.sh plants ws/escape -> ../outside as a Unix symlink; Wine presents it as a link.
TEST_F(WinFileOpsTest, LinkFixtureLeadingOutsideIsRefused) {
  const char* fixture = std::getenv("CORDON_WIN_LINK_FIXTURE");
  if (!fixture) GTEST_SKIP() << "CORDON_WIN_LINK_FIXTURE not set (run through tests/win/run.sh)";
  std::string f = fixture;
  std::wstring fws = win::Utf8ToWide(f.substr(0, f.find(';')));
  std::wstring outside = fws.substr(0, fws.find_last_of(L'\\')) + L"\\outside";
  ASSERT_TRUE(win::testing::WriteTextFile(outside + L"\\target.txt", "outside\n"));
  session_->Close();
  session_ = SessionFor(fws);
  ASSERT_TRUE(session_);
  ASSERT_TRUE(win::testing::WriteTextFile(fws + L"\\inside.txt", "inside\n"));
  ExpectOk("readFile", {{"path", "inside.txt"}});
  ExpectOk("writeFile", {{"path", "inside.txt"}, {"content", "in2\n"}});
  ExpectDenied("readFile", {{"path", "escape/target.txt"}});
  ExpectDenied("readDirectory", {{"path", "escape"}});
  ExpectDenied("writeFile", {{"path", "escape/target.txt"}, {"content", "x"}});
  ExpectDenied("writeFile", {{"path", "escape/new.txt"}, {"content", "x"}});
  ExpectDenied("applyPatch", {{"patch", "*** Begin Patch\n*** Update File: escape/target.txt\n@@\n-outside\n+x\n"
                                         "*** End Patch\n"}});
  EXPECT_EQ(Slurp(outside + L"\\target.txt"), "outside\n");
  EXPECT_FALSE(Exists(outside + L"\\new.txt"));
  // Listing the workspace shows the link without entering it.
  auto dir = Op("readDirectory", {{"path", "."}, {"depth", 3u}});
  ASSERT_TRUE(dir.ok()) << dir.error().detail;
  for (const auto& e : (*dir)["entries"]) EXPECT_EQ(e["name"].get<std::string>().find("escape/"), std::string::npos);
}

TEST_F(WinFileOpsTest, PatchAppliesAndAFailedLastHunkChangesNothing) {
  ASSERT_TRUE(win::testing::WriteTextFile(ws_ + L"\\src\\b.txt", "alpha\nbeta\n"));
  ASSERT_TRUE(win::testing::WriteTextFile(ws_ + L"\\src\\gone.txt", "bye\n"));
  const std::string good =
      "*** Begin Patch\n*** Update File: src/a.txt\n@@\n one\n-two\n+TWO\n three\n"
      "*** Add File: src/new/c.txt\n+c\n*** Delete File: src/gone.txt\n"
      "*** Update File: src/b.txt\n*** Move to: src/moved.txt\n@@\n alpha\n-beta\n+BETA\n*** End Patch\n";
  auto dry = Op("applyPatch", {{"patch", good}, {"dryRun", true}});
  ASSERT_TRUE(dry.ok()) << dry.error().detail;
  EXPECT_EQ((*dry)["applied"], false);
  EXPECT_EQ(Slurp(ws_ + L"\\src\\a.txt"), "one\ntwo\nthree\n");
  // The last hunk does not match: every file stays byte-identical, no temp or directory remains.
  const std::string bad =
      "*** Begin Patch\n*** Update File: src/a.txt\n@@\n one\n-two\n+TWO\n three\n"
      "*** Add File: src/new/c.txt\n+c\n*** Delete File: src/gone.txt\n"
      "*** Update File: src/b.txt\n@@\n alpha\n-NOT THERE\n+x\n*** End Patch\n";
  auto failed = Op("applyPatch", {{"patch", bad}});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().kind, ErrorKind::kConflict) << failed.error().detail;
  EXPECT_NE(failed.error().detail.find("b.txt"), std::string::npos) << failed.error().detail;
  auto names = Names(ws_ + L"\\src");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "b.txt", "gone.txt"}));
  EXPECT_EQ(Slurp(ws_ + L"\\src\\a.txt"), "one\ntwo\nthree\n");
  EXPECT_EQ(Slurp(ws_ + L"\\src\\b.txt"), "alpha\nbeta\n");
  EXPECT_EQ(Slurp(ws_ + L"\\src\\gone.txt"), "bye\n");

  auto ok = Op("applyPatch", {{"patch", good}});
  ASSERT_TRUE(ok.ok()) << ok.error().detail;
  EXPECT_EQ((*ok)["applied"], true);
  EXPECT_EQ((*ok)["files"].size(), 4u);
  EXPECT_EQ(Slurp(ws_ + L"\\src\\a.txt"), "one\nTWO\nthree\n");
  EXPECT_EQ(Slurp(ws_ + L"\\src\\new\\c.txt"), "c\n");
  EXPECT_EQ(Slurp(ws_ + L"\\src\\moved.txt"), "alpha\nBETA\n");
  EXPECT_FALSE(Exists(ws_ + L"\\src\\gone.txt"));
  EXPECT_FALSE(Exists(ws_ + L"\\src\\b.txt"));
  names = Names(ws_ + L"\\src");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "moved.txt", "new"}));
}

TEST_F(WinFileOpsTest, PatchOverADirectoryChangesNothing) {
  // The second file names a directory: refused while planning, so the first file is untouched.
  ::CreateDirectoryW((ws_ + L"\\src\\taken").c_str(), nullptr);
  const std::string patch =
      "*** Begin Patch\n*** Update File: src/a.txt\n@@\n-one\n+ONE\n*** Add File: src/taken\n+x\n*** End Patch\n";
  auto r = Op("applyPatch", {{"patch", patch}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(Slurp(ws_ + L"\\src\\a.txt"), "one\ntwo\nthree\n");
  auto names = Names(ws_ + L"\\src");
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a.txt", "taken"}));
}

}  // namespace
}  // namespace cordon
