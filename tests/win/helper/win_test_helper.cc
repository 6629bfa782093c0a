// Probe program for the Windows tests. Modes:
//   sleep MS                 sleep, then exit 0
//   tree PIDFILE             start a grandchild ("sleep 60000"), write "<self> <grandchild>"
//                            pid pair to PIDFILE, then sleep
//   echo TEXT                print TEXT to stdout and "err" to stderr, exit 3
//   alloc MB                 commit and touch MB megabytes; exit 0 if it worked, 1 if not
//   write PATH               create PATH and write to it; exit 0 if allowed, 5 if denied
//   cat                      copy stdin to stdout byte for byte until EOF
//   inherit HANDLE           exit 0 if the numeric handle is valid in this process, 1 if not
#include <windows.h>

#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cwchar>
#include <string>

int wmain(int argc, wchar_t** argv) {
  if (argc < 2) return 64;
  std::wstring mode = argv[1];
  if (mode == L"sleep" && argc > 2) {
    ::Sleep(static_cast<DWORD>(_wtoi(argv[2])));
    return 0;
  }
  if (mode == L"echo" && argc > 2) {
    std::fwprintf(stdout, L"%ls\n", argv[2]);
    std::fwprintf(stderr, L"err\n");
    return 3;
  }
  if (mode == L"tree" && argc > 2) {
    wchar_t self[MAX_PATH];
    ::GetModuleFileNameW(nullptr, self, MAX_PATH);
    std::wstring cmd = L"\"" + std::wstring(self) + L"\" sleep 60000";
    STARTUPINFOW si{};
    si.cb = sizeof(si);
    PROCESS_INFORMATION pi{};
    if (!::CreateProcessW(nullptr, cmd.data(), nullptr, nullptr, FALSE, 0, nullptr, nullptr, &si,
                          &pi))
      return 2;
    FILE* f = _wfopen(argv[2], L"w");
    if (f == nullptr) return 4;
    std::fprintf(f, "%lu %lu\n", ::GetCurrentProcessId(), pi.dwProcessId);
    std::fclose(f);
    ::Sleep(60000);
    return 0;
  }
  if (mode == L"alloc" && argc > 2) {
    SIZE_T bytes = static_cast<SIZE_T>(_wtoi(argv[2])) << 20;
    char* p = static_cast<char*>(::VirtualAlloc(nullptr, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE));
    if (p == nullptr) return 1;
    for (SIZE_T i = 0; i < bytes; i += 4096) p[i] = 1;
    return 0;
  }
  if (mode == L"write" && argc > 2) {
    HANDLE h = ::CreateFileW(argv[2], GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS, 0, nullptr);
    if (h == INVALID_HANDLE_VALUE) return ::GetLastError() == ERROR_ACCESS_DENIED ? 5 : 6;
    DWORD n = 0;
    ::WriteFile(h, "x", 1, &n, nullptr);
    ::CloseHandle(h);
    return 0;
  }
  if (mode == L"cat") {
    HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
    HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
    char buf[4096];
    DWORD n = 0;
    while (::ReadFile(in, buf, sizeof(buf), &n, nullptr) && n > 0) {
      DWORD w = 0;
      ::WriteFile(out, buf, n, &w, nullptr);
    }
    return 0;
  }
  if (mode == L"inherit" && argc > 2) {
    HANDLE h = reinterpret_cast<HANDLE>(static_cast<uintptr_t>(std::wcstoull(argv[2], nullptr, 10)));
    DWORD flags = 0;
    return ::GetHandleInformation(h, &flags) ? 0 : 1;
  }
  return 64;
}
