// ACL bookkeeping: what is recorded, what an incremental re-apply touches, and that cleanup
// restores exactly the recorded state. Runs against an in-memory backend (Wine does not store
// file DACLs); the real backend's effect is checked on Windows only.
#include <gtest/gtest.h>
#include <windows.h>

#include <fstream>
#include <map>
#include <sstream>

#include "sandbox/win/acl_manager.h"
#include "sandbox/win/job.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/restricted_token.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/spawn.h"
#include "sandbox/win/windows_admin.h"
#include "tests/win/test_util.h"

namespace cordon::win {
namespace {

// DACLs as ordered lists of explicit entries per path; "user:" entries stand for ACEs cordon
// did not create and must never remove.
class FakeBackend : public AclBackend {
 public:
  static std::string Key(const AceRecord& a) {
    return std::string(AceKindName(a.kind)) + ":" + a.sid + ":" + std::to_string(a.mask) + (a.inherit ? ":ci" : "");
  }
  Status AddAce(const AceRecord& ace) override {
    ++adds;
    if (fail_next_add) {
      fail_next_add = false;
      return MakeError(ErrorKind::kInternal, "injected failure");
    }
    dacls[ace.path].push_back(Key(ace));
    return OkStatus();
  }
  Status RemoveAce(const AceRecord& ace) override {
    ++removes;
    auto& list = dacls[ace.path];
    list.erase(std::remove(list.begin(), list.end(), Key(ace)), list.end());
    return OkStatus();
  }
  Result<bool> HasAce(const AceRecord& ace) override {
    auto& list = dacls[ace.path];
    return std::find(list.begin(), list.end(), Key(ace)) != list.end();
  }
  std::map<std::string, std::vector<std::string>> dacls;
  int adds = 0, removes = 0;
  bool fail_next_add = false;
};

class AclManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir(L"acl");
    state_ = WideToUtf8(dir_ + L"\\acl-state.json");
    backend_.dacls["/C:/ws"] = {"user:S-1-5-32-545:read"};
    backend_.dacls["/C:/ws/.git"] = {"user:S-1-5-21-9-9-9-1001:full"};
    original_ = backend_.dacls;
  }
  AceRecord Allow(const std::string& path, const std::string& sid = kSidA) {
    return AceRecord{path, sid, AceKind::kAllowWrite, AllowWriteMask(), true};
  }
  AceRecord Deny(const std::string& path, const std::string& sid = kSidA) {
    return AceRecord{path, sid, AceKind::kDenyWrite, DenyWriteMask(), true};
  }
  AclState State() { return LoadAclState(state_).value(); }

  static constexpr const char* kSidA = "S-1-5-21-1-2-3-4";
  static constexpr const char* kSidB = "S-1-5-21-5-6-7-8";
  std::wstring dir_;
  std::string state_;
  FakeBackend backend_;
  std::map<std::string, std::vector<std::string>> original_;
};

TEST_F(AclManagerTest, ApplyRecordsEveryAceInTheStateFile) {
  AclManager m(state_, &backend_);
  auto r = m.Apply(kSidA, {Allow("/C:/ws"), Deny("/C:/ws/.git")});
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_EQ(r->added, 2);
  AclState s = State();
  ASSERT_EQ(s.aces.size(), 2u);
  EXPECT_EQ(s.aces[0], Allow("/C:/ws"));
  EXPECT_EQ(s.aces[1], Deny("/C:/ws/.git"));
  std::ifstream in(Utf8ToWide(state_).c_str());
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("\"deny-write\""), std::string::npos);
  EXPECT_NE(text.str().find("/C:/ws/.git"), std::string::npos);
  EXPECT_EQ(backend_.dacls["/C:/ws"].size(), 2u);
}

TEST_F(AclManagerTest, ReapplyTouchesOnlyWhatChanged) {
  AclManager m(state_, &backend_);
  ASSERT_TRUE(m.Apply(kSidA, {Allow("/C:/ws"), Deny("/C:/ws/.git")}).ok());
  int adds = backend_.adds;
  auto same = m.Apply(kSidA, {Allow("/C:/ws"), Deny("/C:/ws/.git")});
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->added, 0);
  EXPECT_EQ(same->removed, 0);
  EXPECT_EQ(same->unchanged, 2);
  EXPECT_EQ(backend_.adds, adds) << "no ACL writes when nothing changed";

  // A writable root dropped, another added: one removal, one addition, the rest untouched.
  auto changed = m.Apply(kSidA, {Allow("/C:/other"), Deny("/C:/ws/.git")});
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->added, 1);
  EXPECT_EQ(changed->removed, 1);
  EXPECT_EQ(changed->unchanged, 1);
  EXPECT_EQ(backend_.dacls["/C:/ws"], original_["/C:/ws"]);
  EXPECT_EQ(State().aces.size(), 2u);
}

TEST_F(AclManagerTest, MissingRecordedAceIsRepaired) {
  AclManager m(state_, &backend_);
  ASSERT_TRUE(m.Apply(kSidA, {Allow("/C:/ws")}).ok());
  backend_.dacls["/C:/ws"] = original_["/C:/ws"];  // directory recreated without our ACE
  auto r = m.Apply(kSidA, {Allow("/C:/ws")});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->repaired, 1);
  EXPECT_TRUE(*backend_.HasAce(Allow("/C:/ws")));
}

TEST_F(AclManagerTest, CleanupRestoresExactlyTheRecordedState) {
  AclManager m(state_, &backend_);
  ASSERT_TRUE(m.Apply(kSidA, {Allow("/C:/ws"), Deny("/C:/ws/.git")}).ok());
  ASSERT_TRUE(m.Apply(kSidB, {Allow("/C:/ws2", kSidB)}).ok());
  ASSERT_NE(backend_.dacls["/C:/ws"], original_["/C:/ws"]);
  // The user adds an ACE of their own after us: cleanup must keep it.
  backend_.dacls["/C:/ws"].push_back("user:S-1-5-21-9-9-9-1002:modify");
  auto removed = m.Cleanup();
  ASSERT_TRUE(removed.ok()) << removed.error().detail;
  EXPECT_EQ(*removed, 3);
  EXPECT_TRUE(State().aces.empty());
  auto expect = original_;
  expect["/C:/ws"].push_back("user:S-1-5-21-9-9-9-1002:modify");
  expect["/C:/ws2"] = {};
  EXPECT_EQ(backend_.dacls, expect);
}

TEST_F(AclManagerTest, SidsAreIndependent) {
  AclManager m(state_, &backend_);
  ASSERT_TRUE(m.Apply(kSidA, {Allow("/C:/ws")}).ok());
  ASSERT_TRUE(m.Apply(kSidB, {Allow("/C:/ws2", kSidB)}).ok());
  auto r = m.Apply(kSidB, {});  // B's policy no longer writes anywhere
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->removed, 1);
  ASSERT_EQ(State().aces.size(), 1u);
  EXPECT_EQ(State().aces[0].sid, kSidA);
  ASSERT_TRUE(m.Apply(kSidB, {Allow("/C:/ws2", kSidB)}).ok());
  EXPECT_EQ(*m.Cleanup(kSidB), 1);
  ASSERT_EQ(State().aces.size(), 1u);
  EXPECT_EQ(State().aces[0].sid, kSidA);
  EXPECT_FALSE(m.Apply(kSidA, {Allow("/C:/ws", kSidB)}).ok()) << "plan for another SID";
}

TEST_F(AclManagerTest, FailedApplyStaysRecordedAndCleanupCopes) {
  AclManager m(state_, &backend_);
  backend_.fail_next_add = true;
  EXPECT_FALSE(m.Apply(kSidA, {Allow("/C:/ws")}).ok());
  EXPECT_EQ(State().aces.size(), 1u) << "recorded before it was applied";
  EXPECT_EQ(*m.Cleanup(), 1);
  EXPECT_TRUE(State().aces.empty());
  EXPECT_EQ(backend_.dacls, original_);
}

TEST_F(AclManagerTest, CorruptStateIsAnErrorNotAnEmptyState) {
  {
    std::ofstream out(Utf8ToWide(state_).c_str());
    out << "{not json";
  }
  AclManager m(state_, &backend_);
  EXPECT_FALSE(m.Apply(kSidA, {Allow("/C:/ws")}).ok());
  EXPECT_FALSE(m.Cleanup().ok());
  EXPECT_EQ(backend_.adds + backend_.removes, 0);
}

TEST(AclState, JsonRoundTrip) {
  AclState s;
  s.aces.push_back({"/C:/ws", "S-1-5-21-1-2-3-4", AceKind::kAllowWrite, 0x1301bf, true});
  s.aces.push_back({"/C:/ws/.git", "S-1-5-21-1-2-3-4", AceKind::kDenyWrite, 0x10156, false});
  auto back = AclStateFromJson(AclStateToJson(s));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->aces, s.aces);
  EXPECT_FALSE(AclStateFromJson("{\"version\":2,\"aces\":[]}").ok());
}

TEST(AclPlan, FromPolicy) {
  std::wstring ws = testing::MakeTempDir(L"plan");
  ::CreateDirectoryW((ws + L"\\.git").c_str(), nullptr);
  auto root = ToPolicyPath(ws);
  auto policy = PolicyBuilder().WorkspaceRoot(*root).Build();
  ASSERT_TRUE(policy.ok()) << policy.error().detail;
  std::string sid = WorkspaceCapabilitySidString(policy->workspace_roots()[0]);
  auto plan = PlanAces(*policy, sid);
  ASSERT_EQ(plan.size(), 2u) << "allow on the root, deny on the existing .git (not on missing .cordon)";
  EXPECT_EQ(plan[0].kind, AceKind::kAllowWrite);
  EXPECT_EQ(plan[0].path, policy->workspace_roots()[0]);
  EXPECT_EQ(plan[1].kind, AceKind::kDenyWrite);
  EXPECT_EQ(AsciiLower(plan[1].path), AsciiLower(policy->workspace_roots()[0] + "/.git"));
  auto ro = PolicyBuilder().WorkspaceRoot(*root).Mode(SandboxMode::kReadOnly).Build();
  ASSERT_TRUE(ro.ok());
  EXPECT_TRUE(PlanAces(*ro, sid).empty());
}

TEST(Win32AclBackend, CallsSucceedOnARealDirectory) {
  // Under Wine the calls succeed but nothing is stored; on Windows the ACE is really there.
  std::wstring dir = testing::MakeTempDir(L"acl-real");
  auto path = ToPolicyPath(dir);
  AceRecord ace{*path, "S-1-5-21-1-2-3-4", AceKind::kAllowWrite, AllowWriteMask(), true};
  auto backend = MakeWin32AclBackend();
  ASSERT_TRUE(backend->AddAce(ace).ok());
  if (!RunningUnderWine()) {
    EXPECT_TRUE(*backend->HasAce(ace));
  }
  ASSERT_TRUE(backend->RemoveAce(ace).ok());
  EXPECT_FALSE(*backend->HasAce(ace));
  AceRecord gone = ace;
  gone.path += "/missing";
  EXPECT_TRUE(backend->RemoveAce(gone).ok()) << "a vanished path counts as cleaned";
}

// Real enforcement: a restricted token writes where the capability SID was granted, and is
// refused in an ungranted directory and under a deny-write protected path.
TEST(AclEnforcement, RestrictedTokenWritesOnlyWhereGranted) {
  SKIP_UNDER_WINE();
  std::wstring ws = testing::MakeTempDir(L"enf-ws");
  std::wstring outside = testing::MakeTempDir(L"enf-out");
  ::CreateDirectoryW((ws + L"\\.git").c_str(), nullptr);
  auto root = ToPolicyPath(ws);
  auto policy = PolicyBuilder().WorkspaceRoot(*root).Build();
  ASSERT_TRUE(policy.ok());
  std::string sid = WorkspaceCapabilitySidString(policy->workspace_roots()[0]);
  auto backend = MakeWin32AclBackend();
  AclManager m(WideToUtf8(ws + L"-state.json"), backend.get());
  ASSERT_TRUE(m.Apply(sid, PlanAces(*policy, sid)).ok());
  auto cap = SidFromString(sid);
  auto token = CreateSandboxToken(*cap);
  ASSERT_TRUE(token.ok());
  auto job = Job::Create(JobLimits{});
  auto run = [&](const std::wstring& file) {
    SpawnOptions opts;
    opts.argv = {testing::HelperPath(), "write", WideToUtf8(file)};
    opts.env = testing::CurrentEnv();
    opts.job = &*job;
    opts.token = token->token.get();
    auto proc = Spawn(opts);
    EXPECT_TRUE(proc.ok());
    return proc.ok() ? *WaitForExit(proc->process.get(), 10000) : 99u;
  };
  EXPECT_EQ(run(ws + L"\\ok.txt"), 0u) << "control: granted root is writable";
  EXPECT_EQ(run(outside + L"\\no.txt"), 5u) << "outside the writable roots";
  EXPECT_EQ(run(ws + L"\\.git\\config"), 5u) << "protected path";
  EXPECT_EQ(*m.Cleanup(), 2);
  EXPECT_EQ(run(ws + L"\\again.txt"), 5u) << "after cleanup the grant is gone";
}

}  // namespace
}  // namespace cordon::win

namespace cordon::win {
namespace {

// `cordon windows-cleanup` over the real backend: the recorded ACEs are removed and the state
// emptied (under Wine the ACL calls succeed without storing anything).
TEST(WindowsCleanupCommand, RemovesEveryRecordedAce) {
  std::wstring ws = testing::MakeTempDir(L"cleanup-ws");
  ::CreateDirectoryW((ws + L"\\.git").c_str(), nullptr);
  auto root = ToPolicyPath(ws);
  auto policy = PolicyBuilder().WorkspaceRoot(*root).Build();
  ASSERT_TRUE(policy.ok());
  std::string state = WideToUtf8(ws + L"-acl-state.json");
  std::string sid = WorkspaceCapabilitySidString(policy->workspace_roots()[0]);
  auto backend = MakeWin32AclBackend();
  AclManager m(state, backend.get());
  auto applied = m.Apply(sid, PlanAces(*policy, sid));
  ASSERT_TRUE(applied.ok()) << applied.error().detail;
  EXPECT_EQ(applied->added, 2);
  auto report = WindowsCleanup(state, false);
  ASSERT_TRUE(report.ok()) << report.error().detail;
  EXPECT_EQ(report->aces_removed, 2);
  EXPECT_TRUE(LoadAclState(state)->aces.empty());
  EXPECT_EQ(WindowsCleanup(state, false)->aces_removed, 0) << "idempotent";
}

TEST(WindowsSetupCommand, FailsHonestlyWhereUsersCannotBeCreated) {
  auto st = WindowsSetup(WideToUtf8(testing::MakeTempDir(L"setup") + L"\\creds.json"));
  if (RunningUnderWine()) {
    // Wine's NetUserAdd is a stub: the user gets no SID, and setup must not claim success.
    ASSERT_FALSE(st.ok());
  } else if (!st.ok()) {
    EXPECT_EQ(st.error().kind, ErrorKind::kUnsupported) << st.error().detail;  // not an administrator
  }
}

}  // namespace
}  // namespace cordon::win
