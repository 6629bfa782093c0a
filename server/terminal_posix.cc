#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "server/terminal.h"

namespace cordon::server {

bool StdioIsTerminal() { return ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO); }

std::optional<TerminalSize> StdoutTerminalSize() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return std::nullopt;
  return TerminalSize{ws.ws_col, ws.ws_row};
}

struct RawTerminal::Saved {
  termios attrs{};
};

RawTerminal::RawTerminal() {
  termios saved{};
  if (::tcgetattr(STDIN_FILENO, &saved) != 0) return;
  termios raw = saved;
  ::cfmakeraw(&raw);
  if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0) saved_ = std::make_unique<Saved>(Saved{saved});
}

RawTerminal::~RawTerminal() {
  if (saved_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_->attrs);
}

void ForwardStdin(const std::function<bool(std::string_view)>& sink) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    if (!sink(std::string_view(buf, static_cast<size_t>(n)))) return;
  }
}

void WriteToCaller(bool to_stderr, std::string_view data) {
  int fd = to_stderr ? STDERR_FILENO : STDOUT_FILENO;
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace cordon::server
