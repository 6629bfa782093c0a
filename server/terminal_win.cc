#include <windows.h>

#include "server/terminal.h"

namespace cordon::server {

namespace {

bool IsConsole(DWORD which) {
  DWORD mode = 0;
  return ::GetConsoleMode(::GetStdHandle(which), &mode) != FALSE;
}

}  // namespace

bool StdioIsTerminal() { return IsConsole(STD_INPUT_HANDLE) && IsConsole(STD_OUTPUT_HANDLE); }

std::optional<TerminalSize> StdoutTerminalSize() {
  CONSOLE_SCREEN_BUFFER_INFO info{};
  if (!::GetConsoleScreenBufferInfo(::GetStdHandle(STD_OUTPUT_HANDLE), &info)) return std::nullopt;
  int cols = info.srWindow.Right - info.srWindow.Left + 1;
  int rows = info.srWindow.Bottom - info.srWindow.Top + 1;
  if (cols <= 0 || rows <= 0) return std::nullopt;
  return TerminalSize{static_cast<uint16_t>(cols), static_cast<uint16_t>(rows)};
}

struct RawTerminal::Saved {
  DWORD in_mode = 0;
  DWORD out_mode = 0;
};

// Keys go to the pseudo console as VT input; its VT output is rendered by the caller's console.
RawTerminal::RawTerminal() {
  Saved saved;
  HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
  HANDLE out = ::GetStdHandle(STD_OUTPUT_HANDLE);
  if (!::GetConsoleMode(in, &saved.in_mode) || !::GetConsoleMode(out, &saved.out_mode)) return;
  DWORD raw_in = (saved.in_mode & ~(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT)) |
                 ENABLE_VIRTUAL_TERMINAL_INPUT;
  if (!::SetConsoleMode(in, raw_in)) return;
  ::SetConsoleMode(out, saved.out_mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING);
  saved_ = std::make_unique<Saved>(saved);
}

RawTerminal::~RawTerminal() {
  if (!saved_) return;
  ::SetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), saved_->in_mode);
  ::SetConsoleMode(::GetStdHandle(STD_OUTPUT_HANDLE), saved_->out_mode);
}

void ForwardStdin(const std::function<bool(std::string_view)>& sink) {
  HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
  char buf[16384];
  for (;;) {
    DWORD n = 0;
    if (!::ReadFile(in, buf, sizeof(buf), &n, nullptr) || n == 0) return;
    if (!sink(std::string_view(buf, n))) return;
  }
}

void WriteToCaller(bool to_stderr, std::string_view data) {
  HANDLE h = ::GetStdHandle(to_stderr ? STD_ERROR_HANDLE : STD_OUTPUT_HANDLE);
  while (!data.empty()) {
    DWORD n = 0;
    if (!::WriteFile(h, data.data(), static_cast<DWORD>(data.size()), &n, nullptr) || n == 0) return;
    data.remove_prefix(n);
  }
}

}  // namespace cordon::server
