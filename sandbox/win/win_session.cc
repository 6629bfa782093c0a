#include "sandbox/win/win_session.h"

#include <algorithm>

#include "sandbox/win/conpty.h"
#include "sandbox/win/path_form.h"
#include "sandbox/win/path_guard.h"
#include "sandbox/win/win_file_ops.h"
#include "sandbox/win/win_process.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

bool HasName(const std::vector<std::string>& env, const std::string& name) {
  std::string lower = AsciiLower(name) + "=";
  return std::any_of(env.begin(), env.end(),
                     [&](const std::string& e) { return AsciiLower(e.substr(0, lower.size())) == lower; });
}

}  // namespace

std::vector<std::string> WithWindowsEssentials(std::vector<std::string> env) {
  static const char* kEssential[] = {"SystemRoot", "windir", "SystemDrive", "COMSPEC", "PATHEXT", "TEMP",
                                     "TMP", "USERPROFILE", "PROGRAMDATA", "PROGRAMFILES", "NUMBER_OF_PROCESSORS",
                                     "PROCESSOR_ARCHITECTURE", "OS"};
  for (const char* name : kEssential) {
    if (HasName(env, name)) continue;
    wchar_t buf[32768];
    DWORD n = ::GetEnvironmentVariableW(Utf8ToWide(name).c_str(), buf, 32768);
    if (n > 0 && n < 32768) env.push_back(std::string(name) + "=" + WideToUtf8(std::wstring(buf, n)));
  }
  // A Unix-style PATH (the neutral default) is useless here: replace it with the server's.
  auto path = std::find_if(env.begin(), env.end(), [](const std::string& e) { return AsciiLower(e.substr(0, 5)) == "path="; });
  bool unix_path = path != env.end() && path->find(';') == std::string::npos && path->find(":/") != std::string::npos;
  if (path == env.end() || unix_path) {
    wchar_t buf[32768];
    DWORD n = ::GetEnvironmentVariableW(L"PATH", buf, 32768);
    std::string value = (n > 0 && n < 32768) ? WideToUtf8(std::wstring(buf, n)) : "C:\\Windows\\system32;C:\\Windows";
    if (path != env.end()) env.erase(path);
    env.push_back("PATH=" + value);
  }
  return env;
}

WinSession::WinSession(Policy policy, EnforcementReport report, WinSessionParts parts)
    : policy_(std::move(policy)), report_(std::move(report)), parts_(std::move(parts)) {}

WinSession::~WinSession() { Close(); }

Result<std::unique_ptr<SandboxProcess>> WinSession::Spawn(const SpawnRequest& request) {
  if (closed_) return MakeError(ErrorKind::kSandboxFailed, "session is closed");
  if (request.argv.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty argv");
  std::string cwd_path = request.cwd.empty() ? policy_.workspace_roots()[0] : request.cwd;
  auto cwd = ResolveForPolicy(policy_, cwd_path, PathAccess::kRead);
  if (!cwd) return cwd.error();
  if (!cwd->exists) return MakeError(ErrorKind::kNotFound, "cwd does not exist: " + cwd_path);

  auto inner = Job::Create(JobLimits{0, 0, policy_.limits().cpu_seconds, 0, false});
  if (!inner) return inner.error();
  std::optional<PseudoConsole> pty;
  if (request.tty) {
    auto created = PseudoConsole::Create(request.cols, request.rows);
    if (!created) return created.error();
    pty = std::move(created).value();
  }
  SpawnOptions opts;
  opts.argv = request.argv;
  opts.cwd = cwd->windows_path;
  opts.env = WithWindowsEssentials(request.env);
  for (const auto& [k, v] : parts_.extra_env) {
    if (!HasName(opts.env, k)) opts.env.push_back(k + "=" + v);
  }
  opts.token = parts_.token ? parts_.token->token.get() : nullptr;
  opts.job = &parts_.job;
  opts.inner_job = &*inner;
  if (parts_.desktop) opts.desktop = parts_.desktop->name();
  opts.stdin_pipe = request.stdin_pipe;
  if (pty) opts.pseudo_console = pty->handle();
  auto proc = win::Spawn(opts);
  if (!proc) return proc.error();
  return std::unique_ptr<SandboxProcess>(
      std::make_unique<WinProcess>(std::move(proc).value(), std::move(inner).value(), std::move(pty), request.timeout_ms));
}

Result<nlohmann::json> WinSession::RunOperation(const std::string& op, const nlohmann::json& request,
                                                const std::atomic<bool>* cancel) {
  if (closed_) return MakeError(ErrorKind::kSandboxFailed, "session is closed");
  return RunFileOperation(policy_, parts_.token ? parts_.token->token.get() : nullptr, op, request, cancel);
}

void WinSession::Close() {
  if (closed_.exchange(true)) return;
  (void)parts_.job.Terminate(1);
}

}  // namespace cordon::win
