// cordon-runner.exe: the per-command runner of elevated mode (see sandbox/win/runner_service.h).
//   cordon-runner.exe --pipe-in=\\.\pipe\NAME --pipe-out=\\.\pipe\NAME
// The server creates both pipes (DACL: the server's user and the sandbox user only) and starts
// this program as the sandbox user; it exits when the input pipe closes.
#include <windows.h>

#include <cwchar>
#include <string>

#include "sandbox/win/runner_service.h"
#include "sandbox/win/scoped_handle.h"

namespace {

HANDLE OpenPipe(const std::wstring& name, DWORD access) {
  return ::CreateFileW(name.c_str(), access, 0, nullptr, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, nullptr);
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  ::SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
  std::wstring in_name, out_name;
  for (int i = 1; i < argc; ++i) {
    std::wstring a = argv[i];
    if (a.rfind(L"--pipe-in=", 0) == 0) in_name = a.substr(10);
    if (a.rfind(L"--pipe-out=", 0) == 0) out_name = a.substr(11);
  }
  if (in_name.empty() || out_name.empty()) {
    std::fwprintf(stderr, L"usage: cordon-runner --pipe-in=NAME --pipe-out=NAME\n");
    return 64;
  }
  // Only cordon's own pipe namespace: the runner never opens an arbitrary file given to it.
  if (in_name.rfind(L"\\\\.\\pipe\\cordon-", 0) != 0 || out_name.rfind(L"\\\\.\\pipe\\cordon-", 0) != 0) return 64;
  cordon::win::ScopedHandle in(OpenPipe(in_name, GENERIC_READ));
  cordon::win::ScopedHandle out(OpenPipe(out_name, GENERIC_WRITE));
  if (!in || !out) return 3;
  return cordon::win::RunRunner(in.get(), out.get());
}
