// MakeSandboxBackend() for Windows: builds WinSessions (unelevated mode). What each guarantee
// amounts to is stated per host: under Wine nothing of the token, ACLs or job limits is
// enforced, and sandbox/info says so instead of claiming the Windows guarantees.
#include <windows.h>


#include "sandbox/backend.h"
#include "sandbox/win/acl_manager.h"
#include "sandbox/win/conpty.h"
#include "sandbox/win/network_env.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/win_session.h"
#include "sandbox/win/win_util.h"
#include "sandbox/win/windows_admin.h"

namespace cordon {

namespace {

using namespace cordon::win;

std::string AclStateFile() { return DefaultAclStateFile(); }

class WinBackend final : public SandboxBackend {
 public:
  WinBackend() : wine_(RunningUnderWine()) {}

  std::string Platform() const override { return "windows"; }

  nlohmann::json HostJson() const override {
    HMODULE k32 = ::GetModuleHandleW(L"kernel32.dll");
    return {{"windowsMode", "unelevated"},
            {"wine", wine_},
            {"conpty", k32 != nullptr && ::GetProcAddress(k32, "CreatePseudoConsole") != nullptr},
            {"aclState", AclStateFile()}};
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
    } else {
      r.network = {"degraded", AdvisoryNetworkReason()};
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
    EnforcementReport report = Predict(policy);
    bool full = policy.mode() == SandboxMode::kDangerFullAccess;
    if (!policy.allow_degraded() && ((!full && report.filesystem.state == "off") ||
                                     (policy.network() == NetworkMode::kNone && report.network.state == "off")))
      return MakeError(ErrorKind::kUnsupported,
                       "this host cannot enforce the filesystem policy: " + report.filesystem.reason +
                           " (set allow_degraded to run anyway, with the gap reported)");

    WinSessionParts parts;
    JobLimits limits = JobLimits::FromPolicy(policy.limits());
    auto job = Job::Create(limits);
    if (!job) return job.error();
    parts.job = std::move(job).value();
    if (!parts.job.degraded().empty() && report.resources.state == "enforced")
      report.resources = {"degraded", parts.job.degraded()[0]};

    if (!full) {
      std::string sid_text = WorkspaceCapabilitySidString(policy.workspace_roots()[0]);
      auto sid = SidFromString(sid_text);
      if (!sid) return sid.error();
      auto backend = MakeWin32AclBackend();
      AclManager acl(AclStateFile(), backend.get());
      auto applied = acl.Apply(sid_text, PlanAces(policy, sid_text));
      if (!applied) return MakeError(ErrorKind::kSandboxFailed, "workspace ACLs: " + applied.error().detail);
      auto token = CreateSandboxToken(*sid);
      if (!token) return token.error();
      std::vector<OwnedSid> desk_sids = {*sid};
      parts.token = std::move(token).value();
      auto desktop = AlternateDesktop::Create(desk_sids);
      if (desktop) parts.desktop = std::move(desktop).value();
      // Without a private desktop the command shares the server's; not a write boundary.
    }
    if (policy.network() == NetworkMode::kNone) parts.extra_env = AdvisoryNoNetworkEnv();
    return std::shared_ptr<SandboxSession>(std::make_shared<WinSession>(policy, report, std::move(parts)));
  }

  void Prewarm(const Policy& /*policy*/, int /*count*/) override {
    // Sessions cost a token, a job and a desktop (milliseconds): no pool on Windows.
  }

 private:
  bool wine_;
};

}  // namespace

std::unique_ptr<SandboxBackend> MakeSandboxBackend() { return std::make_unique<WinBackend>(); }

}  // namespace cordon
