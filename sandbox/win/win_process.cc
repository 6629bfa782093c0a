#include "sandbox/win/win_process.h"

#include "sandbox/win/pipes.h"
#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

uint64_t FiletimeMs(const FILETIME& ft) {
  return ((static_cast<uint64_t>(ft.dwHighDateTime) << 32) | ft.dwLowDateTime) / 10000;
}

}  // namespace

WinProcess::WinProcess(SpawnedProcess proc, Job job, std::optional<PseudoConsole> pty, uint32_t timeout_ms)
    : pid_(proc.pid), proc_(std::move(proc)), job_(std::move(job)), pty_(std::move(pty)),
      start_(std::chrono::steady_clock::now()), stop_(::CreateEventW(nullptr, TRUE, FALSE, nullptr)) {
  if (pty_) {
    open_streams_ = 1;
    out_thread_ = std::thread([this] { Pump(pty_->output_read(), OutputStream::kPty); });
  } else {
    open_streams_ = 2;
    out_thread_ = std::thread([this] { Pump(proc_.stdout_read.get(), OutputStream::kStdout); });
    err_thread_ = std::thread([this] { Pump(proc_.stderr_read.get(), OutputStream::kStderr); });
  }
  watch_thread_ = std::thread([this, timeout_ms] { Watch(timeout_ms); });
}

WinProcess::~WinProcess() {
  (void)job_.Terminate(1);
  ::SetEvent(stop_.get());
  if (pty_) pty_->Close();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (out_thread_.joinable()) out_thread_.join();
  if (err_thread_.joinable()) err_thread_.join();
}

void WinProcess::Pump(HANDLE h, OutputStream stream) {
  std::string buf(65536, '\0');
  for (;;) {
    auto n = ReadSome(h, buf.data(), buf.size());
    if (!n.ok() || *n == 0) break;
    output_.Push(OutputChunk{stream, buf.substr(0, *n), false});
  }
  if (open_streams_.fetch_sub(1) == 1) output_.End(stream);
}

void WinProcess::Watch(uint32_t timeout_ms) {
  HANDLE waits[2] = {proc_.process.get(), stop_.get()};
  DWORD w = ::WaitForMultipleObjects(2, waits, FALSE, timeout_ms == 0 ? INFINITE : timeout_ms);
  if (w == WAIT_TIMEOUT) {
    (void)Kill(KillReason::kTimeout);
    ::WaitForSingleObject(proc_.process.get(), INFINITE);
  }
  // The command itself has exited; its descendants may still hold the pipes. The tree is
  // the command's: end it so output reaches EOF (as a PID namespace ends on Linux).
  (void)job_.Terminate(0);
  exited_ = true;
  // A pseudo console keeps its output pipe open until it is closed.
  if (pty_) pty_->Close();
}

Result<OutputChunk> WinProcess::ReadOutput(size_t max_bytes) { return output_.Take(max_bytes); }

ProcessResult WinProcess::Wait() {
  ::WaitForSingleObject(proc_.process.get(), INFINITE);
  std::lock_guard<std::mutex> lock(mu_);
  if (result_) return *result_;
  ProcessResult r;
  DWORD code = 0;
  ::GetExitCodeProcess(proc_.process.get(), &code);
  r.wall_ms = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count());
  FILETIME c, e, k, u;
  if (::GetProcessTimes(proc_.process.get(), &c, &e, &k, &u)) r.cpu_ms = FiletimeMs(k) + FiletimeMs(u);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext{};
  if (::QueryInformationJobObject(job_.handle(), JobObjectExtendedLimitInformation, &ext, sizeof(ext), nullptr))
    r.max_rss_kb = ext.PeakJobMemoryUsed / 1024;  // 0 under Wine, which does not account it
  int reason = kill_reason_.load();
  r.exit_code = static_cast<int>(code);
  if (reason == static_cast<int>(KillReason::kTimeout)) {
    r.status = "timeout";
  } else if (reason == static_cast<int>(KillReason::kOutputLimit)) {
    r.status = "output_limit";
  } else if (reason >= 0) {
    r.status = "killed";
  } else if (code == 0xC0000005u || code == 0xC0000409u || code == 0xC000001Du) {
    r.status = "signaled";  // an access violation, stack-buffer overrun or illegal instruction
    r.detail = "exception 0x" + [&] {
      char hex[16];
      snprintf(hex, sizeof(hex), "%08lX", static_cast<unsigned long>(code));
      return std::string(hex);
    }();
  } else if (code == 0xC0000017u) {
    r.status = "oom";  // STATUS_NO_MEMORY: the job memory limit refused an allocation
  } else {
    r.status = "exited";
  }
  result_ = r;
  return r;
}

Status WinProcess::WriteStdin(std::string_view data) {
  std::lock_guard<std::mutex> lock(in_mu_);
  HANDLE h = pty_ ? pty_->input_write() : proc_.stdin_write.get();
  if (h == nullptr) return MakeError(ErrorKind::kInvalidArgument, "stdin is not a pipe for this process");
  return WriteAll(h, std::string(data));
}

Status WinProcess::CloseStdin() {
  std::lock_guard<std::mutex> lock(in_mu_);
  proc_.stdin_write.reset();
  return OkStatus();
}

Status WinProcess::Resize(uint16_t cols, uint16_t rows) {
  if (!pty_) return MakeError(ErrorKind::kInvalidArgument, "not a tty process");
  return pty_->Resize(cols, rows);
}

Status WinProcess::Signal(int /*signal*/) {
  // No POSIX signals on Windows; every signal ends the command's tree.
  return Kill(KillReason::kTerminate);
}

Status WinProcess::Kill(KillReason reason) {
  int expected = -1;
  kill_reason_.compare_exchange_strong(expected, static_cast<int>(reason));
  return job_.Terminate(1);
}

}  // namespace cordon::win
