// Elevated mode as a session: without `cordon windows-setup` it fails closed (and the same
// policy runs unelevated when that is what the config says - the paired control); with the
// runner launched as the current user, process start/output/exit/close work through the
// neutral SandboxSession interface; the logon as the sandbox user runs on Windows only.
#include <gtest/gtest.h>
#include <windows.h>

#include <algorithm>
#include <cstdlib>

#include "sandbox/backend.h"
#include "sandbox/win/elevated_identity.h"
#include "sandbox/win/elevated_session.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/pipes.h"
#include "sandbox/win/spawn.h"
#include "sandbox/win/sid.h"
#include "tests/win/test_util.h"

namespace cordon::win {
namespace {

using testing::DrainOutput;

// cordon-runner.exe next to the tests, else the build tree's.
std::wstring RunnerExe() { return testing::FindBuiltExe(nullptr, L"cordon-runner.exe", CORDON_RUNNER_BUILD_PATH); }

class ElevatedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir(L"elevated");
    ws_ = dir_ + L"\\ws";
    ::CreateDirectoryW(ws_.c_str(), nullptr);
    _putenv_s("CORDON_WIN_ACL_STATE", WideToUtf8(dir_ + L"\\acl-state.json").c_str());
  }
  Policy MakePolicy(bool allow_degraded) {
    auto root = ToPolicyPath(ws_);
    auto p = PolicyBuilder().WorkspaceRoot(*root).AllowDegraded(allow_degraded).Build();
    EXPECT_TRUE(p.ok()) << p.error().detail;
    return std::move(p).value();
  }
  SpawnRequest Request(std::vector<std::string> argv) {
    SpawnRequest r;
    r.argv = std::move(argv);
    r.env = testing::CurrentEnv();
    return r;
  }
  std::wstring dir_, ws_;
};

TEST_F(ElevatedTest, WithoutSetupSessionCreationFailsClosed) {
  BackendOptions elevated{"elevated", WideToUtf8(dir_ + L"\\no-such-credentials.json")};
  auto backend = MakeSandboxBackend(elevated);
  EXPECT_EQ(backend->HostJson()["windowsMode"], "elevated");
  // allow_degraded does not turn a missing identity into an unelevated session.
  for (bool allow_degraded : {false, true}) {
    auto s = backend->CreateSession(MakePolicy(allow_degraded));
    ASSERT_FALSE(s.ok()) << "elevated mode without setup must not create a session";
    EXPECT_EQ(s.error().kind, ErrorKind::kUnsupported);
    EXPECT_NE(s.error().detail.find("cordon windows-setup"), std::string::npos) << s.error().detail;
  }
  EnforcementReport r = backend->Predict(MakePolicy(false));
  EXPECT_EQ(r.filesystem.state, "off");
  EXPECT_NE(r.filesystem.reason.find("cordon windows-setup"), std::string::npos) << r.filesystem.reason;
  EXPECT_NE(r.network.state, "enforced");

  // Control: the same policy with the unelevated backend does create a session and run.
  auto plain = MakeSandboxBackend(BackendOptions{});
  EXPECT_EQ(plain->HostJson()["windowsMode"], "unelevated");
  auto s = plain->CreateSession(MakePolicy(true));
  ASSERT_TRUE(s.ok()) << s.error().detail;
  auto p = (*s)->Spawn(Request({"cmd", "/c", "echo hi"}));
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_NE(DrainOutput(**p).first.find("hi"), std::string::npos);
}

TEST_F(ElevatedTest, CorruptCredentialsFailClosedToo) {
  std::wstring file = dir_ + L"\\sandbox-users.json";
  ASSERT_TRUE(testing::WriteTextFile(file, "{\"version\":1,\"offline\":{\"username\":\"x\",\"password\":\"bm90\"}}"));
  auto backend = MakeSandboxBackend(BackendOptions{"elevated", WideToUtf8(file)});
  auto s = backend->CreateSession(MakePolicy(true));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().detail.find("cordon windows-setup"), std::string::npos) << s.error().detail;
}

// What `cordon check` says (the same host report as sandbox/info) under an elevated config.
TEST_F(ElevatedTest, CheckReportsElevatedModeAndTheMissingSetup) {
  auto job = Job::Create(JobLimits{});
  ASSERT_TRUE(job.ok());
  SpawnOptions opts;
  opts.argv = {WideToUtf8(testing::FromBuildPath(CORDON_EXE_BUILD_PATH)), "check", "--json", "--workspace", WideToUtf8(ws_), "-c",
               "windows.sandbox=elevated"};
  opts.env = testing::CurrentEnv();
  opts.job = &*job;
  auto proc = win::Spawn(opts);
  ASSERT_TRUE(proc.ok()) << proc.error().detail;
  auto out = ReadToEnd(proc->stdout_read.get());
  ASSERT_TRUE(out.ok());
  auto j = nlohmann::json::parse(*out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << *out;
  EXPECT_EQ(j["host"]["windowsMode"], "elevated");
  // The Wine prefix has no sandbox users: the report names the setup step, never "enforced".
  if (!LoadElevatedIdentity("", true).ok()) {
    EXPECT_NE(j["enforcement"]["filesystem"]["reason"].get<std::string>().find("cordon windows-setup"),
              std::string::npos);
    EXPECT_EQ(j["enforcement"]["network"]["state"], "off");
  }
}

// The session with its runners launched as the current user: everything but the logon.
TEST_F(ElevatedTest, SessionRunsCommandsThroughTheRunner) {
  Policy policy = MakePolicy(true);
  ElevatedSessionParts parts;
  auto job = Job::Create(JobLimits{});
  ASSERT_TRUE(job.ok());
  parts.job = std::move(job).value();
  parts.launcher = MakeCurrentUserLauncher();
  parts.runner_exe = RunnerExe();
  parts.capability_sid = WorkspaceCapabilitySidString(policy.workspace_roots()[0]);
  parts.profile_env = false;
  ElevatedSession session(policy, EnforcementReport{}, std::move(parts));

  auto p = session.Spawn(Request({"cmd", "/c", "echo hi& exit 4"}));
  ASSERT_TRUE(p.ok()) << p.error().detail;
  EXPECT_NE(DrainOutput(**p).first.find("hi"), std::string::npos);
  ProcessResult r = (*p)->Wait();
  EXPECT_EQ(r.status, "exited");
  EXPECT_EQ(r.exit_code, 4);

  // cwd defaults to the workspace (resolved by the server's path guard).
  auto cd = session.Spawn(Request({"cmd", "/c", "cd"}));
  ASSERT_TRUE(cd.ok()) << cd.error().detail;
  std::string where = AsciiLower(DrainOutput(**cd).first);
  EXPECT_NE(where.find(AsciiLower(WideToUtf8(ws_.substr(ws_.find_last_of(L'\\'))))), std::string::npos) << where;

  // A cwd outside the policy is refused before any runner starts.
  SpawnRequest outside = Request({"cmd", "/c", "echo no"});
  outside.cwd = "/C:/Windows/cordon-not-a-dir";
  EXPECT_FALSE(session.Spawn(outside).ok());

  // Closing the session ends a running command (and its runner) with the session Job.
  auto sleeper = session.Spawn(Request({testing::HelperPath(), "sleep", "60000"}));
  ASSERT_TRUE(sleeper.ok()) << sleeper.error().detail;
  ScopedHandle h(::OpenProcess(SYNCHRONIZE, FALSE, static_cast<DWORD>((*sleeper)->pid())));
  ASSERT_TRUE(h.valid());
  session.Close();
  EXPECT_FALSE(session.alive());
  DrainOutput(**sleeper);
  EXPECT_EQ((*sleeper)->Wait().status, "killed");
  EXPECT_EQ(::WaitForSingleObject(h.get(), 60000), WAIT_OBJECT_0);
  EXPECT_FALSE(session.Spawn(Request({"cmd", "/c", "echo late"})).ok());
}

// The real thing: commands run as the offline sandbox user. Needs `cordon windows-setup` on a
// Windows host; Wine cannot log anyone on.
TEST_F(ElevatedTest, LogonRunsCommandsAsTheOfflineSandboxUser) {
  if (RunningUnderWine())
    GTEST_SKIP() << "Wine's CreateProcessWithLogonW is a stub (fails with error 6) and LogonUserW accepts any "
                    "password: the sandbox-user logon runs on Windows only";
  auto id = LoadElevatedIdentity("", true);
  if (!id) GTEST_SKIP() << "this Windows host has no sandbox users: " << id.error().detail;
  auto backend = MakeSandboxBackend(BackendOptions{"elevated", ""});
  auto s = backend->CreateSession(MakePolicy(false));
  ASSERT_TRUE(s.ok()) << s.error().detail;
  EXPECT_EQ((*s)->enforcement().network.state, "enforced") << (*s)->enforcement().network.reason;
  auto who = (*s)->Spawn(Request({"cmd", "/c", "whoami"}));
  ASSERT_TRUE(who.ok()) << who.error().detail;
  std::string out = AsciiLower(DrainOutput(**who).first);
  EXPECT_NE(out.find(AsciiLower(id->credential.username)), std::string::npos) << out;
  // Writes: allowed in the workspace (control), denied in the developer's own temp directory.
  auto inside = (*s)->Spawn(Request({"cmd", "/c", "echo x> inside.txt"}));
  ASSERT_TRUE(inside.ok());
  DrainOutput(**inside);
  EXPECT_EQ((*inside)->Wait().exit_code, 0);
  EXPECT_NE(::GetFileAttributesW((ws_ + L"\\inside.txt").c_str()), INVALID_FILE_ATTRIBUTES);
  std::string target = WideToUtf8(dir_ + L"\\outside.txt");
  auto outside = (*s)->Spawn(Request({"cmd", "/c", "echo x> \"" + target + "\""}));
  ASSERT_TRUE(outside.ok());
  DrainOutput(**outside);
  EXPECT_NE((*outside)->Wait().exit_code, 0);
  EXPECT_EQ(::GetFileAttributesW((dir_ + L"\\outside.txt").c_str()), INVALID_FILE_ATTRIBUTES);
}

}  // namespace
}  // namespace cordon::win
