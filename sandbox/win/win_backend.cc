// MakeSandboxBackend() for Windows: builds WinSessions (unelevated mode) or, with
// [windows] sandbox = "elevated", ElevatedSessions whose commands run as the sandbox users
// through cordon-runner.exe. Elevated mode without `cordon windows-setup` fails closed (never a
// silent unelevated fallback). What each guarantee amounts to is stated per host: under Wine
// nothing of the token, ACLs or job limits is enforced, and sandbox/info says so.
#include <windows.h>

#include <algorithm>

#include "sandbox/backend.h"
#include "sandbox/win/acl_manager.h"
#include "sandbox/win/acl_state.h"
#include "sandbox/win/conpty.h"
#include "sandbox/win/elevated_identity.h"
#include "sandbox/win/elevated_session.h"
#include "sandbox/win/runner_client.h"
#include "sandbox/win/sandbox_users.h"
#include "sandbox/win/network_env.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/win_session.h"
#include "sandbox/win/win_util.h"
#include "sandbox/win/windows_admin.h"

namespace cordon {

namespace {

using namespace cordon::win;

std::string AclStateFile() { return DefaultAclStateFile(); }

// The session Job with the policy's limits. A limit this host cannot set turns an "enforced"
// resources report into "degraded", with the first reason.
Result<Job> CreateSessionJob(const Policy& policy, EnforcementReport& report) {
  auto job = Job::Create(JobLimits::FromPolicy(policy.limits()));
  if (!job) return job.error();
  if (!job->degraded().empty() && report.resources.state == "enforced")
    report.resources = {"degraded", job->degraded()[0]};
  return job;
}

// The workspace's capability SID - the restricting SID of the session's token - once the
// ACEs the policy plans for it are applied through `acl`.
struct WorkspaceCapability {
  std::string sid_text;
  OwnedSid sid;
};

Result<WorkspaceCapability> ApplyWorkspaceAces(const Policy& policy, AclManager& acl) {
  WorkspaceCapability cap;
  cap.sid_text = WorkspaceCapabilitySidString(policy.workspace_roots()[0]);
  auto sid = SidFromString(cap.sid_text);
  if (!sid) return sid.error();
  cap.sid = std::move(sid).value();
  auto applied = acl.Apply(cap.sid_text, PlanAces(policy, cap.sid_text));
  if (!applied) return MakeError(ErrorKind::kSandboxFailed, "workspace ACLs: " + applied.error().detail);
  return cap;
}

class WinBackend final : public SandboxBackend {
 public:
  explicit WinBackend(const BackendOptions& options)
      : wine_(RunningUnderWine()),
        elevated_(options.windows_sandbox == "elevated"),
        credentials_file_(options.windows_credentials_file) {}

  std::string Platform() const override { return "windows"; }

  nlohmann::json HostJson() const override {
    HMODULE k32 = ::GetModuleHandleW(L"kernel32.dll");
    nlohmann::json host = {{"windowsMode", elevated_ ? "elevated" : "unelevated"},
                           {"wine", wine_},
                           {"conpty", k32 != nullptr && ::GetProcAddress(k32, "CreatePseudoConsole") != nullptr},
                           {"aclState", AclStateFile()}};
    if (elevated_) {
      auto id = LoadElevatedIdentity(credentials_file_, true);
      host["sandboxUsers"] = id.ok() ? nlohmann::json(id->credential.username) : nlohmann::json(nullptr);
      if (!id.ok()) host["sandboxUsersError"] = id.error().detail;
      host["runner"] = WideToUtf8(DefaultRunnerPath());
    }
    return host;
  }

  EnforcementReport Predict(const Policy& policy) const override {
    EnforcementReport r;
    const char* wine = "running under Wine, which accepts but does not enforce restricted tokens, file ACLs and job limits";
    if (policy.mode() == SandboxMode::kDangerFullAccess) {
      r.filesystem = {"off", "danger-full-access: the policy allows writing anywhere"};
    } else if (wine_) {
      r.filesystem = {"off", wine};
    } else if (!policy.read_deny().empty()) {
      r.filesystem = {"degraded",
                      "writes confined by a write-restricted token and workspace ACEs; read-denied paths are "
                      "not enforced for commands in unelevated mode (reads use the user's own rights)"};
    } else {
      r.filesystem = {"enforced", "write-restricted token; writes need the workspace capability SID's ACEs"};
    }
    if (policy.network() == NetworkMode::kFull) {
      r.network = {"off", "the policy allows the network"};
    } else if (elevated_ && policy.mode() != SandboxMode::kDangerFullAccess) {
      r.network = ElevatedNetwork();
    } else {
      r.network = {"degraded", AdvisoryNetworkReason()};
    }
    if (elevated_ && policy.mode() != SandboxMode::kDangerFullAccess) {
      auto id = LoadElevatedIdentity(credentials_file_, policy.network() == NetworkMode::kNone);
      if (!id) {
        r.filesystem = {"off", id.error().detail};
      } else if (r.filesystem.state != "off") {
        r.filesystem.reason = "commands run as " + id->credential.username + " with a write-restricted token; " +
                              r.filesystem.reason;
      }
    }
    if (wine_) {
      r.resources = {"off", wine};
    } else {
      r.resources = {"enforced", "Job Object: job memory limit, active process limit, per-process CPU time"};
    }
    r.process_tree = {"enforced", "Job Object with kill-on-close per session and per command (nested)"};
    return r;
  }

  Result<std::shared_ptr<SandboxSession>> CreateSession(const Policy& policy) override {
    bool full = policy.mode() == SandboxMode::kDangerFullAccess;
    if (elevated_ && !full) {
      // Checked before anything else and regardless of allow_degraded: without the sandbox
      // users there is no elevated mode, and running unelevated instead would be a silent
      // downgrade of the identity boundary the user configured.
      auto id = LoadElevatedIdentity(credentials_file_, policy.network() == NetworkMode::kNone);
      if (!id) return id.error();
    }
    EnforcementReport report = Predict(policy);
    if (!policy.allow_degraded() && !full && report.filesystem.state == "off")
      return MakeError(ErrorKind::kUnsupported,
                       "this host cannot enforce the filesystem policy: " + report.filesystem.reason +
                           " (set allow_degraded to run anyway, with the gap reported)");
    if (!policy.allow_degraded() && policy.network() == NetworkMode::kNone && report.network.state == "off")
      return MakeError(ErrorKind::kUnsupported,
                       "this host cannot enforce the network policy: " + report.network.reason +
                           " (set allow_degraded to run anyway, with the gap reported)");
    if (elevated_ && !full) return CreateElevated(policy, std::move(report));

    WinSessionParts parts;
    auto job = CreateSessionJob(policy, report);
    if (!job) return job.error();
    parts.job = std::move(job).value();

    if (!full) {
      auto backend = MakeWin32AclBackend();
      AclManager acl(AclStateFile(), backend.get());
      auto cap = ApplyWorkspaceAces(policy, acl);
      if (!cap) return cap.error();
      auto token = CreateSandboxToken(cap->sid);
      if (!token) return token.error();
      std::vector<OwnedSid> desk_sids = {cap->sid};
      parts.token = std::move(token).value();
      auto desktop = AlternateDesktop::Create(desk_sids);
      if (desktop) parts.desktop = std::move(desktop).value();
      // Without a private desktop the command shares the server's; not a write boundary.
    }
    if (policy.network() == NetworkMode::kNone) parts.extra_env = AdvisoryNoNetworkEnv();
    return std::shared_ptr<SandboxSession>(std::make_shared<WinSession>(policy, report, std::move(parts)));
  }

  Enforcement ElevatedNetwork() const {
    auto id = LoadElevatedIdentity(credentials_file_, true);
    if (!id) return {"off", id.error().detail};
    if (OfflineNetworkBlocked(id->user_sid))
      return {"enforced", "Windows Firewall rules scoped to the offline sandbox user's SID (" + id->user_sid +
                              "): no traffic except loopback"};
    if (wine_) return {"off", "running under Wine, which stores and enforces no firewall rules"};
    return {"off", "the offline sandbox user's firewall rules are missing or changed: run `cordon windows-setup` again"};
  }

  // The sandbox users need rights of their own where the capability SID has them: the token
  // check of a write-restricted token passes only if both the user's groups and a restricting
  // SID are granted. The group's ACEs accumulate across workspaces (every workspace a session
  // was opened on stays readable and writable by the sandbox users until
  // `cordon windows-cleanup`), since one SID's records are replaced as a whole by Apply.
  Status GrantSandboxGroup(const Policy& policy, AclManager& acl) {
    SandboxUserPlan plan;
    auto group = LocalAccountSid(WideToUtf8(plan.group));
    if (!group) return MakeError(ErrorKind::kUnsupported, "the group " + WideToUtf8(plan.group) +
                                                              " is missing: run `cordon windows-setup`");
    std::vector<AceRecord> desired;
    if (auto state = LoadAclState(AclStateFile()); state.ok()) {
      for (const auto& ace : state->aces)
        if (ace.sid == *group) desired.push_back(ace);
    }
    auto add = [&](const AceRecord& ace) {
      if (std::find(desired.begin(), desired.end(), ace) == desired.end()) desired.push_back(ace);
    };
    for (const auto& ace : PlanAces(policy, *group)) add(ace);
    const uint32_t kRead = FILE_GENERIC_READ | FILE_GENERIC_EXECUTE;
    for (const auto& root : policy.workspace_roots()) add(AceRecord{root, *group, AceKind::kAllowWrite, kRead, true});
    auto applied = acl.Apply(*group, desired);
    if (!applied) return MakeError(ErrorKind::kSandboxFailed, "sandbox users' ACLs: " + applied.error().detail);
    return OkStatus();
  }

  Result<std::shared_ptr<SandboxSession>> CreateElevated(const Policy& policy, EnforcementReport report) {
    auto id = LoadElevatedIdentity(credentials_file_, policy.network() == NetworkMode::kNone);
    if (!id) return id.error();
    std::wstring runner = DefaultRunnerPath();
    if (::GetFileAttributesW(runner.c_str()) == INVALID_FILE_ATTRIBUTES)
      return MakeError(ErrorKind::kSandboxFailed, "cordon-runner.exe not found at " + WideToUtf8(runner));
    ElevatedSessionParts parts;
    auto job = CreateSessionJob(policy, report);
    if (!job) return job.error();
    parts.job = std::move(job).value();
    auto backend = MakeWin32AclBackend();
    AclManager acl(AclStateFile(), backend.get());
    auto cap = ApplyWorkspaceAces(policy, acl);
    if (!cap) return cap.error();
    if (auto st = GrantSandboxGroup(policy, acl); !st) return st.error();
    auto ops_token = CreateSandboxToken(cap->sid);
    if (!ops_token) return ops_token.error();
    parts.ops_token = std::move(ops_token).value();
    parts.capability_sid = cap->sid_text;
    parts.runner_exe = runner;
    parts.launcher = MakeLogonLauncher(id->credential, id->user_sid);
    if (policy.network() == NetworkMode::kNone && report.network.state != "enforced")
      parts.extra_env = AdvisoryNoNetworkEnv();
    return std::shared_ptr<SandboxSession>(
        std::make_shared<ElevatedSession>(policy, std::move(report), std::move(parts)));
  }

  void Prewarm(const Policy& /*policy*/, int /*count*/) override {
    // Sessions cost a token, a job and a desktop (milliseconds): no pool on Windows.
  }

 private:
  bool wine_;
  bool elevated_;
  std::string credentials_file_;
};

}  // namespace

std::unique_ptr<SandboxBackend> MakeSandboxBackend(const BackendOptions& options) {
  return std::make_unique<WinBackend>(options);
}

}  // namespace cordon
