// The Windows SandboxBackend end to end (what `cordon serve` drives): a session is created
// for a policy, runs `cmd /c echo hi` with the output streamed back, ends process trees on
// kill, timeout and session close, and reports honestly what this host enforces.
#include <gtest/gtest.h>
#include <windows.h>

#include <cstdlib>
#include <fstream>

#include "sandbox/backend.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/scoped_handle.h"
#include "tests/win/test_util.h"

namespace cordon {
namespace {

class WinSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = win::testing::MakeTempDir(L"session");
    ws_ = dir_ + L"\\ws";
    ::CreateDirectoryW(ws_.c_str(), nullptr);
    _putenv_s("CORDON_WIN_ACL_STATE", win::WideToUtf8(dir_ + L"\\acl-state.json").c_str());
    backend_ = MakeSandboxBackend();
  }
  Policy MakePolicy(bool allow_degraded) {
    auto root = win::ToPolicyPath(ws_);
    auto p = PolicyBuilder().WorkspaceRoot(*root).AllowDegraded(allow_degraded).Build();
    EXPECT_TRUE(p.ok()) << p.error().detail;
    return std::move(p).value();
  }
  std::shared_ptr<SandboxSession> Session() {
    auto s = backend_->CreateSession(MakePolicy(true));
    EXPECT_TRUE(s.ok()) << s.error().detail;
    return s.ok() ? *s : nullptr;
  }
  SpawnRequest Request(std::vector<std::string> argv) {
    SpawnRequest r;
    r.argv = std::move(argv);
    r.env = win::testing::CurrentEnv();
    return r;
  }

  std::wstring dir_, ws_;
  std::unique_ptr<SandboxBackend> backend_;
};

TEST_F(WinSessionTest, ReportsWhatThisHostEnforces) {
  EXPECT_EQ(backend_->Platform(), "windows");
  auto host = backend_->HostJson();
  EXPECT_EQ(host["wine"].get<bool>(), win::RunningUnderWine());
  auto report = backend_->Predict(MakePolicy(false));
  EXPECT_EQ(report.process_tree.state, "enforced");
  EXPECT_EQ(report.network.state, "degraded") << "unelevated network blocking is advisory";
  if (win::RunningUnderWine()) {
    EXPECT_EQ(report.filesystem.state, "off");
    auto refused = backend_->CreateSession(MakePolicy(false));
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().kind, ErrorKind::kUnsupported);
  }
}

TEST_F(WinSessionTest, CmdEchoHiStreamsBack) {
  auto s = Session();
  ASSERT_TRUE(s);
  auto p = s->Spawn(Request({"cmd", "/c", "echo hi"}));
  ASSERT_TRUE(p.ok()) << p.error().detail;
  auto [out, err] = win::testing::DrainOutput(**p);
  EXPECT_EQ(out, "hi\r\n");
  ProcessResult r = (*p)->Wait();
  EXPECT_EQ(r.status, "exited");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE((*p)->exited());
}

TEST_F(WinSessionTest, StdinAndCwd) {
  auto s = Session();
  ASSERT_TRUE(s);
  ::CreateDirectoryW((ws_ + L"\\sub").c_str(), nullptr);
  auto req = Request({"cmd", "/c", "cd"});
  req.cwd = s->policy().workspace_roots()[0] + "/sub";
  auto p = s->Spawn(req);
  ASSERT_TRUE(p.ok()) << p.error().detail;
  auto [out, err] = win::testing::DrainOutput(**p);
  EXPECT_NE(win::AsciiLower(out).find("\\ws\\sub"), std::string::npos) << out;

  auto cat = Request({win::testing::HelperPath(), "cat"});
  cat.stdin_pipe = true;
  auto c = s->Spawn(cat);
  ASSERT_TRUE(c.ok()) << c.error().detail;
  ASSERT_TRUE((*c)->WriteStdin("ping\n").ok());
  ASSERT_TRUE((*c)->CloseStdin().ok());
  EXPECT_EQ(win::testing::DrainOutput(**c).first, "ping\n");
  EXPECT_EQ((*c)->Wait().exit_code, 0);
}

TEST_F(WinSessionTest, KillEndsTheTreeIncludingGrandchild) {
  auto s = Session();
  ASSERT_TRUE(s);
  std::wstring pidfile = dir_ + L"\\pids.txt";
  auto p = s->Spawn(Request({win::testing::HelperPath(), "tree", win::WideToUtf8(pidfile)}));
  ASSERT_TRUE(p.ok()) << p.error().detail;
  DWORD child = 0, grandchild = 0;
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(win::WideToUtf8(pidfile));
    if (in >> child >> grandchild) break;
    ::Sleep(25);
  }
  ASSERT_NE(grandchild, 0u);
  win::ScopedHandle g(::OpenProcess(SYNCHRONIZE, FALSE, grandchild));
  ASSERT_TRUE(g.valid());
  ASSERT_TRUE((*p)->Kill(KillReason::kTerminate).ok());
  EXPECT_EQ(::WaitForSingleObject(g.get(), 5000), WAIT_OBJECT_0) << "grandchild survived";
  win::testing::DrainOutput(**p);
  EXPECT_EQ((*p)->Wait().status, "killed");
}

TEST_F(WinSessionTest, TimeoutAndSessionClose) {
  auto s = Session();
  ASSERT_TRUE(s);
  auto req = Request({win::testing::HelperPath(), "sleep", "60000"});
  req.timeout_ms = 300;
  auto p = s->Spawn(req);
  ASSERT_TRUE(p.ok());
  win::testing::DrainOutput(**p);
  EXPECT_EQ((*p)->Wait().status, "timeout");

  auto long_running = s->Spawn(Request({win::testing::HelperPath(), "sleep", "60000"}));
  ASSERT_TRUE(long_running.ok());
  s->Close();
  EXPECT_FALSE(s->alive());
  win::testing::DrainOutput(**long_running);
  EXPECT_TRUE((*long_running)->exited());
  EXPECT_FALSE(s->Spawn(Request({"cmd", "/c", "echo late"})).ok());
}

TEST_F(WinSessionTest, RefusesCwdOutsideAndUnknownOperations) {
  auto s = Session();
  ASSERT_TRUE(s);
  auto req = Request({"cmd", "/c", "echo x"});
  req.cwd = s->policy().workspace_roots()[0] + "/nul";
  auto p = s->Spawn(req);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().kind, ErrorKind::kPolicyDenied);
  // File operations run (tests/win/file_ops_test.cc); a request without a path is malformed
  // and an operation the backend does not know is unsupported.
  auto op = s->RunOperation("readFile", nlohmann::json::object(), nullptr);
  ASSERT_FALSE(op.ok());
  EXPECT_EQ(op.error().kind, ErrorKind::kInvalidArgument);
  auto unknown = s->RunOperation("chmod", nlohmann::json::object(), nullptr);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().kind, ErrorKind::kUnsupported);
}

}  // namespace
}  // namespace cordon
