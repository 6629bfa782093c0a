#include "sandbox/win/runner_client.h"

#include <sddl.h>

#include <atomic>
#include <cwchar>

#include "sandbox/win/command_line.h"
#include "sandbox/win/sid.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

std::atomic<unsigned long> g_runner_counter{0};

Result<std::string> OwnUserSid() {
  ScopedHandle token;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, token.receive()))
    return WinError(ErrorKind::kSandboxFailed, "OpenProcessToken");
  auto sid = TokenUserSid(token.get());
  if (!sid) return sid.error();
  return sid->ToString();
}

Result<ScopedHandle> CreateOnePipe(const std::wstring& name, DWORD direction, SECURITY_ATTRIBUTES* sa) {
  ScopedHandle h(::CreateNamedPipeW(name.c_str(), direction | FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1,
                                    64 * 1024, 64 * 1024, 0, sa));
  if (!h) return WinError(ErrorKind::kSandboxFailed, "CreateNamedPipeW(runner)");
  return h;
}

// Waits for the runner to connect `pipe`, or to die, or the deadline.
Status AwaitClient(HANDLE pipe, HANDLE runner, DWORD runner_pid, DWORD timeout_ms) {
  ScopedHandle event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event) return WinError(ErrorKind::kSandboxFailed, "CreateEventW");
  OVERLAPPED ov{};
  ov.hEvent = event.get();
  if (!::ConnectNamedPipe(pipe, &ov)) {
    DWORD err = ::GetLastError();
    if (err == ERROR_IO_PENDING) {
      HANDLE waits[2] = {event.get(), runner};
      DWORD w = ::WaitForMultipleObjects(2, waits, FALSE, timeout_ms);
      if (w != WAIT_OBJECT_0) {
        ::CancelIoEx(pipe, &ov);
        DWORD ignored = 0;
        ::GetOverlappedResult(pipe, &ov, &ignored, TRUE);
        if (w == WAIT_OBJECT_0 + 1) {
          DWORD code = 0;
          ::GetExitCodeProcess(runner, &code);
          return MakeError(ErrorKind::kSandboxFailed,
                           "cordon-runner exited (code " + std::to_string(code) + ") before connecting");
        }
        return MakeError(ErrorKind::kSandboxFailed, "cordon-runner did not connect in time");
      }
      DWORD ignored = 0;
      if (!::GetOverlappedResult(pipe, &ov, &ignored, FALSE))
        return WinError(ErrorKind::kSandboxFailed, "ConnectNamedPipe(runner)");
    } else if (err != ERROR_PIPE_CONNECTED) {
      return WinError(ErrorKind::kSandboxFailed, "ConnectNamedPipe(runner)", err);
    }
  }
  // The pipe has one instance and its DACL admits the runner's user; this also rules out
  // another process of that user (a command of another session) having connected first.
  ULONG client = 0;
  if (!::GetNamedPipeClientProcessId(pipe, &client))
    return WinError(ErrorKind::kSandboxFailed, "GetNamedPipeClientProcessId(runner)");
  if (client != runner_pid)
    return MakeError(ErrorKind::kSandboxFailed, "runner pipe connected by pid " + std::to_string(client) +
                                                    ", not the runner (" + std::to_string(runner_pid) + ")");
  return OkStatus();
}

class LogonLauncher final : public RunnerLauncher {
 public:
  LogonLauncher(SandboxCredential credential, std::string sid)
      : credential_(std::move(credential)), sid_(std::move(sid)) {}
  ~LogonLauncher() override { ::SecureZeroMemory(credential_.password.data(), credential_.password.size()); }

  Result<LaunchedRunner> Launch(const std::wstring& exe, const std::wstring& args) override {
    std::wstring cmdline = QuoteArgument(exe) + L" " + args;
    std::wstring user = Utf8ToWide(credential_.username);
    std::wstring password = Utf8ToWide(credential_.password);
    // The sandbox user may not traverse the server's working directory: start in System32.
    wchar_t sysdir[MAX_PATH];
    UINT n = ::GetSystemDirectoryW(sysdir, MAX_PATH);
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    BOOL ok = ::CreateProcessWithLogonW(user.c_str(), L".", password.c_str(), LOGON_WITH_PROFILE, exe.c_str(),
                                        cmdline.data(), CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT,
                                        nullptr, n > 0 ? sysdir : nullptr, &si, &pi);
    DWORD err = ::GetLastError();
    ::SecureZeroMemory(password.data(), password.size() * sizeof(wchar_t));
    if (!ok) {
      std::string hint = err == ERROR_ACCESS_DENIED
                             ? " (the sandbox users must be able to read and execute cordon-runner.exe)"
                             : err == ERROR_LOGON_FAILURE ? " (stored password rejected: run cordon windows-setup again)"
                                                          : "";
      return WinError(ErrorKind::kSandboxFailed, "CreateProcessWithLogonW(" + credential_.username + ")" + hint, err);
    }
    LaunchedRunner out;
    out.process.reset(pi.hProcess);
    out.thread.reset(pi.hThread);
    out.pid = pi.dwProcessId;
    return out;
  }
  std::string RunnerSid() const override { return sid_; }

 private:
  SandboxCredential credential_;
  std::string sid_;
};

class CurrentUserLauncher final : public RunnerLauncher {
 public:
  Result<LaunchedRunner> Launch(const std::wstring& exe, const std::wstring& args) override {
    std::wstring cmdline = QuoteArgument(exe) + L" " + args;
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    // DETACHED_PROCESS: the runner needs no console (its commands get their own), so no
    // console host joins the session Job on its behalf.
    if (!::CreateProcessW(exe.c_str(), cmdline.data(), nullptr, nullptr, FALSE,
                          CREATE_SUSPENDED | DETACHED_PROCESS | CREATE_UNICODE_ENVIRONMENT, nullptr, nullptr, &si, &pi))
      return WinError(ErrorKind::kSandboxFailed, "CreateProcessW(" + WideToUtf8(exe) + ")");
    LaunchedRunner out;
    out.process.reset(pi.hProcess);
    out.thread.reset(pi.hThread);
    out.pid = pi.dwProcessId;
    return out;
  }
  std::string RunnerSid() const override { return ""; }
};

}  // namespace

Result<RunnerPipes> CreateRunnerPipes(const std::string& peer_sid) {
  auto own = OwnUserSid();
  if (!own) return own.error();
  std::wstring sddl = L"D:P(A;;GA;;;" + Utf8ToWide(*own) + L")";
  if (!peer_sid.empty()) sddl += L"(A;;GRGW;;;" + Utf8ToWide(peer_sid) + L")";
  PSECURITY_DESCRIPTOR sd = nullptr;
  if (!::ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl.c_str(), SDDL_REVISION_1, &sd, nullptr))
    return WinError(ErrorKind::kSandboxFailed, "runner pipe security descriptor");
  ScopedLocal<PSECURITY_DESCRIPTOR> sd_owner(sd);
  SECURITY_ATTRIBUTES sa{sizeof(sa), sd, FALSE};
  wchar_t base[96];
  swprintf(base, 96, L"\\\\.\\pipe\\cordon-runner-%lu-%lu-%lu", ::GetCurrentProcessId(), g_runner_counter.fetch_add(1),
           ::GetTickCount());
  RunnerPipes pipes;
  pipes.in_name = std::wstring(base) + L"-in";
  pipes.out_name = std::wstring(base) + L"-out";
  auto in = CreateOnePipe(pipes.in_name, PIPE_ACCESS_OUTBOUND, &sa);
  if (!in) return in.error();
  auto out = CreateOnePipe(pipes.out_name, PIPE_ACCESS_INBOUND, &sa);
  if (!out) return out.error();
  pipes.to_runner = std::move(in).value();
  pipes.from_runner = std::move(out).value();
  return pipes;
}

std::unique_ptr<RunnerLauncher> MakeLogonLauncher(SandboxCredential credential, std::string user_sid) {
  return std::make_unique<LogonLauncher>(std::move(credential), std::move(user_sid));
}

std::unique_ptr<RunnerLauncher> MakeCurrentUserLauncher() { return std::make_unique<CurrentUserLauncher>(); }

Result<RunnerConnection> StartRunner(RunnerLauncher& launcher, const std::wstring& runner_exe, const Job& job,
                                     DWORD timeout_ms) {
  RunnerConnection conn;
  auto pipes = CreateRunnerPipes(launcher.RunnerSid());
  if (!pipes) return pipes.error();
  conn.pipes = std::move(pipes).value();
  auto launched = launcher.Launch(runner_exe, L"--pipe-in=" + conn.pipes.in_name + L" --pipe-out=" + conn.pipes.out_name);
  if (!launched) return launched.error();
  conn.runner = std::move(launched).value();
  HANDLE process = conn.runner.process.get();
  // Into the session's Job before its first instruction: fail closed if that is refused.
  if (auto st = job.Assign(process); !st) {
    ::TerminateProcess(process, 1);
    return st.error();
  }
  if (::ResumeThread(conn.runner.thread.get()) == static_cast<DWORD>(-1)) {
    auto err = WinError(ErrorKind::kSandboxFailed, "ResumeThread(runner)");
    ::TerminateProcess(process, 1);
    return err;
  }
  for (HANDLE pipe : {conn.pipes.to_runner.get(), conn.pipes.from_runner.get()}) {
    if (auto st = AwaitClient(pipe, process, conn.runner.pid, timeout_ms); !st) {
      ::TerminateProcess(process, 1);
      return st.error();
    }
  }
  return conn;
}

std::wstring DefaultRunnerPath() {
  wchar_t buf[MAX_PATH];
  DWORD n = ::GetModuleFileNameW(nullptr, buf, MAX_PATH);
  std::wstring path(buf, n);
  return path.substr(0, path.find_last_of(L"\\/") + 1) + L"cordon-runner.exe";
}

}  // namespace cordon::win
