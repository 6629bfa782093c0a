#include "sandbox/win/runner_service.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "sandbox/base64.h"
#include "sandbox/win/acl_manager.h"
#include "sandbox/win/conpty.h"
#include "sandbox/win/desktop.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/restricted_token.h"
#include "sandbox/win/runner_protocol.h"
#include "sandbox/win/spawn.h"
#include "sandbox/win/win_process.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

// Everything that must stay alive while the command runs. The process is declared last so it
// is destroyed (tree ended, threads joined) before the desktop and token it uses.
struct RunningCommand {
  std::optional<RestrictedToken> token;
  std::optional<AlternateDesktop> desktop;
  std::unique_ptr<WinProcess> process;
};

std::string OwnVariable(const char* name) {
  wchar_t buf[32768];
  DWORD n = ::GetEnvironmentVariableW(Utf8ToWide(name).c_str(), buf, 32768);
  return (n > 0 && n < 32768) ? WideToUtf8(std::wstring(buf, n)) : std::string();
}

// The sandbox user's profile locations replace the server user's: the command must not be
// pointed at the developer's profile (which the sandbox user cannot write anyway), and tools'
// caches land in the sandbox user's own profile.
std::vector<std::string> OverlayProfileEnv(std::vector<std::string> env) {
  static const char* kProfile[] = {"USERPROFILE", "APPDATA", "LOCALAPPDATA", "TEMP", "TMP",
                                   "USERNAME", "USERDOMAIN", "HOMEDRIVE", "HOMEPATH"};
  for (const char* name : kProfile) {
    std::string value = OwnVariable(name);
    if (value.empty()) continue;
    std::string prefix = AsciiLower(std::string(name) + "=");
    std::erase_if(env, [&](const std::string& e) { return AsciiLower(e.substr(0, prefix.size())) == prefix; });
    env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

// Under WRITE_RESTRICTED every write also needs the capability SID: grant it on the sandbox
// user's own TEMP (a directory of the sandbox account, nothing of the developer's), so tools
// that need a temp directory work. Best effort: without it only temp writes fail.
void GrantOwnTemp(const std::string& capability_sid) {
  std::string temp = OwnVariable("TEMP");
  if (temp.empty()) return;
  auto policy_path = ToPolicyPath(Utf8ToWide(temp));
  if (!policy_path) return;
  auto backend = MakeWin32AclBackend();
  (void)backend->AddAce(AceRecord{*policy_path, capability_sid, AceKind::kAllowWrite, AllowWriteMask(), true});
}

Result<RunningCommand> StartCommand(const RunnerSpawn& req) {
  RunningCommand out;
  std::optional<OwnedSid> capability;
  if (!req.capability_sid.empty()) {
    auto sid = SidFromString(req.capability_sid);
    if (!sid) return sid.error();
    capability = *sid;
    // The base is this process's own token: in elevated mode, the sandbox user's.
    auto token = CreateSandboxToken(*capability);
    if (!token) return token.error();
    out.token = std::move(token).value();
  }
  std::vector<std::string> env = req.env;
  if (req.profile_env) {
    env = OverlayProfileEnv(std::move(env));
    if (capability) GrantOwnTemp(req.capability_sid);
  }
  auto job = Job::Create(JobLimits{req.memory_bytes, req.max_processes, req.cpu_seconds, 0, true});
  if (!job) return job.error();
  if (req.private_desktop && capability) {
    auto desktop = AlternateDesktop::Create({*capability});
    if (desktop) out.desktop = std::move(desktop).value();  // else the default desktop: not a write boundary
  }
  std::optional<PseudoConsole> pty;
  if (req.tty) {
    auto created = PseudoConsole::Create(req.cols, req.rows);
    if (!created) return created.error();
    pty = std::move(created).value();
  }
  SpawnOptions opts;
  opts.argv = req.argv;
  opts.cwd = Utf8ToWide(req.cwd);
  opts.env = std::move(env);
  opts.token = out.token ? out.token->token.get() : nullptr;
  opts.job = &*job;
  if (out.desktop) opts.desktop = out.desktop->name();
  opts.stdin_pipe = req.stdin_pipe;
  if (pty) opts.pseudo_console = pty->handle();
  auto proc = Spawn(opts);
  if (!proc) return proc.error();
  out.process = std::make_unique<WinProcess>(std::move(proc).value(), std::move(job).value(), std::move(pty),
                                             req.timeout_ms);
  return out;
}

class Runner {
 public:
  Runner(HANDLE in, HANDLE out) : in_(in), out_(out) {}

  bool Send(const nlohmann::json& frame) {
    std::lock_guard<std::mutex> lock(out_mu_);
    return WriteFrame(out_, frame).ok();
  }

  int Run() {
    auto first = ReadFrame(in_);
    if (!first || !first->has_value()) return 3;
    auto req = RunnerSpawnFromJson(**first);
    if (!req) {
      Send(ErrorFrame(req.error()));
      return 2;
    }
    auto started = StartCommand(*req);
    if (!started) {
      Send(ErrorFrame(started.error()));
      return 2;
    }
    cmd_ = std::move(started).value();
    WinProcess* proc = cmd_.process.get();
    if (!Send({{"type", "ready"}, {"v", kRunnerProtocolVersion}, {"pid", proc->pid()}})) Stop(3);
    std::thread control([this, proc] { Control(proc); });
    control.detach();  // it ends the process when the server closes the pipe
    for (;;) {
      auto chunk = proc->ReadOutput(64 * 1024);
      if (!chunk) break;
      if (!Send(OutputFrame(*chunk))) Stop(3);
      if (chunk->eof) break;
    }
    ProcessResult result = proc->Wait();
    if (!Send(ExitFrame(result))) Stop(3);
    exit_sent_ = true;
    // The server closes its pipe once it has the exit (Control then terminates us); a server
    // that does not is not waited for long.
    ::Sleep(30000);
    Stop(0);
  }

 private:
  void Control(WinProcess* proc) {
    for (;;) {
      auto frame = ReadFrame(in_);
      if (!frame || !frame->has_value()) break;  // closed (or broken): stop
      const nlohmann::json& f = **frame;
      std::string type = f["type"].get<std::string>();
      try {
        Dispatch(proc, type, f);
      } catch (const nlohmann::json::exception&) {
        // A malformed control frame is dropped; the pipe and the command carry on.
      }
    }
    if (!exit_sent_) (void)proc->Kill(KillReason::kSessionClosed);
    Stop(exit_sent_ ? 0 : 3);
  }

  static void Dispatch(WinProcess* proc, const std::string& type, const nlohmann::json& f) {
    if (type == "stdin") {
      auto bytes = f.contains("data") && f["data"].is_string() ? Base64Decode(f["data"].get<std::string>())
                                                               : std::nullopt;
      if (bytes) (void)proc->WriteStdin(*bytes);
    } else if (type == "stdin_close") {
      (void)proc->CloseStdin();
    } else if (type == "resize") {
      (void)proc->Resize(f.value("cols", 80), f.value("rows", 24));
    } else if (type == "terminate") {
      (void)proc->Kill(KillReasonFromName(f.value("reason", "")).value_or(KillReason::kTerminate));
    }
    // Unknown types are ignored: a newer server may send hints an older runner lacks.
  }

  // Ends the command's job and this process at once. Terminating (rather than returning)
  // closes the job handle from the kernel's side, so kill-on-close ends whatever is left even
  // if a thread of ours is blocked.
  [[noreturn]] void Stop(UINT code) {
    if (cmd_.process) (void)cmd_.process->Kill(KillReason::kSessionClosed);
    ::TerminateProcess(::GetCurrentProcess(), code);
    for (;;) ::Sleep(INFINITE);
  }

  HANDLE in_;
  HANDLE out_;
  std::mutex out_mu_;
  RunningCommand cmd_;
  std::atomic<bool> exit_sent_{false};
};

}  // namespace

int RunRunner(HANDLE from_server, HANDLE to_server) {
  // Heap-allocated and never freed: the control thread may outlive Run() until it terminates
  // the process.
  auto* runner = new Runner(from_server, to_server);
  return runner->Run();
}

}  // namespace cordon::win
