#include "sandbox/win/spawn.h"

#include <memory>
#include <mutex>

#include "sandbox/win/command_line.h"
#include "sandbox/win/pipes.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

std::mutex g_spawn_mutex;

class AttributeList {
 public:
  Status Init(DWORD count) {
    SIZE_T size = 0;
    ::InitializeProcThreadAttributeList(nullptr, count, 0, &size);
    buf_ = std::make_unique<BYTE[]>(size);
    list_ = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(buf_.get());
    if (!::InitializeProcThreadAttributeList(list_, count, 0, &size))
      return WinError(ErrorKind::kSandboxFailed, "InitializeProcThreadAttributeList");
    return OkStatus();
  }
  Status Add(DWORD_PTR attr, void* value, SIZE_T size) {
    if (!::UpdateProcThreadAttribute(list_, 0, attr, value, size, nullptr, nullptr))
      return WinError(ErrorKind::kSandboxFailed, "UpdateProcThreadAttribute");
    return OkStatus();
  }
  LPPROC_THREAD_ATTRIBUTE_LIST get() const { return list_; }
  ~AttributeList() {
    if (list_ != nullptr) ::DeleteProcThreadAttributeList(list_);
  }

 private:
  std::unique_ptr<BYTE[]> buf_;
  LPPROC_THREAD_ATTRIBUTE_LIST list_ = nullptr;
};

}  // namespace

Result<SpawnedProcess> Spawn(const SpawnOptions& options) {
  if (options.argv.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty argv");
  if (options.job == nullptr) return MakeError(ErrorKind::kInternal, "spawn without a job");
  SpawnedProcess out;
  ScopedHandle child_in, child_out, child_err;
  std::vector<HANDLE> inherit;
  if (options.pseudo_console == nullptr) {
    if (options.stdin_pipe) {
      auto p = CreateCommandPipe(false);
      if (!p) return p.error();
      out.stdin_write = std::move(p->parent);
      child_in = std::move(p->child);
    } else {
      SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
      child_in.reset(::CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                                   OPEN_EXISTING, 0, nullptr));
      if (!child_in) return WinError(ErrorKind::kSandboxFailed, "CreateFileW(NUL)");
    }
    auto o = CreateCommandPipe(true);
    if (!o) return o.error();
    auto e = CreateCommandPipe(true);
    if (!e) return e.error();
    out.stdout_read = std::move(o->parent);
    out.stderr_read = std::move(e->parent);
    child_out = std::move(o->child);
    child_err = std::move(e->child);
    inherit = {child_in.get(), child_out.get(), child_err.get()};
  }

  AttributeList attrs;
  if (auto st = attrs.Init(1); !st) return st.error();
  if (options.pseudo_console != nullptr) {
    if (auto st = attrs.Add(PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE, options.pseudo_console,
                            sizeof(options.pseudo_console));
        !st)
      return st.error();
  } else {
    if (auto st = attrs.Add(PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit.data(), inherit.size() * sizeof(HANDLE));
        !st)
      return st.error();
  }

  STARTUPINFOEXW si{};
  si.StartupInfo.cb = sizeof(si);
  si.lpAttributeList = attrs.get();
  std::wstring desktop = options.desktop;
  if (!desktop.empty()) si.StartupInfo.lpDesktop = desktop.data();
  if (options.pseudo_console == nullptr) {
    si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    si.StartupInfo.hStdInput = child_in.get();
    si.StartupInfo.hStdOutput = child_out.get();
    si.StartupInfo.hStdError = child_err.get();
  }
  std::wstring cmdline = BuildCommandLine(options.argv);
  std::wstring env = BuildEnvironmentBlock(options.env);
  DWORD flags = CREATE_SUSPENDED | CREATE_UNICODE_ENVIRONMENT | EXTENDED_STARTUPINFO_PRESENT |
                CREATE_NEW_PROCESS_GROUP;
  if (options.pseudo_console == nullptr) flags |= CREATE_NO_WINDOW;
  BOOL inherit_handles = options.pseudo_console == nullptr ? TRUE : FALSE;
  const wchar_t* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();

  PROCESS_INFORMATION pi{};
  {
    std::lock_guard<std::mutex> lock(g_spawn_mutex);
    BOOL ok = options.token != nullptr
                  ? ::CreateProcessAsUserW(options.token, nullptr, cmdline.data(), nullptr, nullptr,
                                           inherit_handles, flags, env.data(), cwd, &si.StartupInfo, &pi)
                  : ::CreateProcessW(nullptr, cmdline.data(), nullptr, nullptr, inherit_handles, flags,
                                     env.data(), cwd, &si.StartupInfo, &pi);
    if (!ok) {
      DWORD err = ::GetLastError();
      ErrorKind kind = (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) ? ErrorKind::kNotFound
                                                                                    : ErrorKind::kSandboxFailed;
      return WinError(kind, "CreateProcess(" + options.argv[0] + ")", err);
    }
  }
  out.process.reset(pi.hProcess);
  ScopedHandle thread(pi.hThread);
  out.pid = pi.dwProcessId;
  if (auto st = options.job->Assign(out.process.get()); !st) {
    ::TerminateProcess(out.process.get(), 1);
    return st.error();
  }
  if (options.inner_job != nullptr) {
    if (auto st = options.inner_job->Assign(out.process.get()); !st) {
      ::TerminateProcess(out.process.get(), 1);
      return st.error();
    }
  }
  if (::ResumeThread(thread.get()) == static_cast<DWORD>(-1)) {
    auto err = WinError(ErrorKind::kSandboxFailed, "ResumeThread");
    ::TerminateProcess(out.process.get(), 1);
    return err;
  }
  return out;
}

Result<DWORD> WaitForExit(HANDLE process, DWORD timeout_ms) {
  DWORD w = ::WaitForSingleObject(process, timeout_ms);
  if (w == WAIT_TIMEOUT) return MakeError(ErrorKind::kLimitExceeded, "process did not exit in time");
  if (w != WAIT_OBJECT_0) return WinError(ErrorKind::kInternal, "WaitForSingleObject(process)");
  DWORD code = 0;
  if (!::GetExitCodeProcess(process, &code)) return WinError(ErrorKind::kInternal, "GetExitCodeProcess");
  return code;
}

}  // namespace cordon::win
