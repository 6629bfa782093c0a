#include "sandbox/win/pipes.h"

#include <algorithm>
#include <atomic>
#include <cwchar>

#include "sandbox/win/win_util.h"

namespace cordon::win {

namespace {

std::atomic<unsigned long> g_pipe_counter{0};

// One blocking read or write on an overlapped handle; returns 0 or the Win32 error.
DWORD OverlappedIo(HANDLE h, char* buf, DWORD len, bool write, DWORD* done) {
  *done = 0;
  OVERLAPPED ov{};
  ScopedHandle event(::CreateEventW(nullptr, TRUE, FALSE, nullptr));
  if (!event) return ::GetLastError();
  ov.hEvent = event.get();
  BOOL ok = write ? ::WriteFile(h, buf, len, nullptr, &ov) : ::ReadFile(h, buf, len, nullptr, &ov);
  if (!ok && ::GetLastError() != ERROR_IO_PENDING) return ::GetLastError();
  if (!::GetOverlappedResult(h, &ov, done, TRUE)) return ::GetLastError();
  return 0;
}

}  // namespace

Result<PipePair> CreateCommandPipe(bool parent_reads) {
  wchar_t name[128];
  swprintf(name, 128, L"\\\\.\\pipe\\cordon-%lu-%lu-%lu", ::GetCurrentProcessId(),
           g_pipe_counter.fetch_add(1), ::GetTickCount());
  PipePair pair;
  DWORD open_mode = (parent_reads ? PIPE_ACCESS_INBOUND : PIPE_ACCESS_OUTBOUND) | FILE_FLAG_OVERLAPPED |
                    FILE_FLAG_FIRST_PIPE_INSTANCE;
  pair.parent.reset(::CreateNamedPipeW(name, open_mode,
                                       PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
                                           PIPE_REJECT_REMOTE_CLIENTS,
                                       1, 64 * 1024, 64 * 1024, 0, nullptr));
  if (!pair.parent) return WinError(ErrorKind::kSandboxFailed, "CreateNamedPipeW");
  SECURITY_ATTRIBUTES sa{sizeof(sa), nullptr, TRUE};
  pair.child.reset(::CreateFileW(name, parent_reads ? GENERIC_WRITE : GENERIC_READ, 0, &sa, OPEN_EXISTING,
                                 0, nullptr));
  if (!pair.child) return WinError(ErrorKind::kSandboxFailed, "CreateFileW(pipe client)");
  return pair;
}

Result<std::string> ReadToEnd(HANDLE h, size_t max_bytes) {
  std::string out;
  char buf[16384];
  for (;;) {
    DWORD n = 0;
    DWORD err = OverlappedIo(h, buf, sizeof(buf), false, &n);
    if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF || err == ERROR_PIPE_NOT_CONNECTED) break;
    if (err != 0) return WinError(ErrorKind::kInternal, "ReadFile(pipe)", err);
    if (n == 0) continue;
    if (out.size() < max_bytes) out.append(buf, std::min<size_t>(n, max_bytes - out.size()));
  }
  return out;
}

Result<size_t> ReadSome(HANDLE h, char* buf, size_t len) {
  for (;;) {
    DWORD n = 0;
    DWORD err = OverlappedIo(h, buf, static_cast<DWORD>(std::min<size_t>(len, 1u << 20)), false, &n);
    if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF || err == ERROR_PIPE_NOT_CONNECTED ||
        err == ERROR_OPERATION_ABORTED || err == ERROR_INVALID_HANDLE)
      return size_t{0};
    if (err != 0) return WinError(ErrorKind::kInternal, "ReadFile(pipe)", err);
    if (n != 0) return static_cast<size_t>(n);
  }
}

Status WriteAll(HANDLE h, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    DWORD n = 0;
    DWORD len = static_cast<DWORD>(std::min<size_t>(bytes.size() - off, 1u << 20));
    DWORD err = OverlappedIo(h, const_cast<char*>(bytes.data() + off), len, true, &n);
    if (err != 0) return WinError(ErrorKind::kInternal, "WriteFile(pipe)", err);
    off += n;
  }
  return OkStatus();
}

}  // namespace cordon::win
