// The caller's side of `cordon run`: whether stdin/stdout are a terminal, its size, raw mode
// while a pty command runs, forwarding stdin, and writing the command's output back.
// terminal_posix.cc uses termios/TIOCGWINSZ; terminal_win.cc uses the console API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace cordon::server {

struct TerminalSize {
  uint16_t cols = 80;
  uint16_t rows = 24;
};

// True when both stdin and stdout are an interactive terminal (console).
bool StdioIsTerminal();
// The size of the terminal on stdout, if it is one.
std::optional<TerminalSize> StdoutTerminalSize();

// Raw mode for the caller's terminal (no line editing, no echo, no local signal keys: the
// command's own pty handles them) for the object's lifetime.
class RawTerminal {
 public:
  RawTerminal();
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  struct Saved;
  std::unique_ptr<Saved> saved_;
};

// Reads the caller's stdin until EOF (or an error), passing each chunk to `sink` until it
// returns false. Blocks; run it on a thread of its own.
void ForwardStdin(const std::function<bool(std::string_view)>& sink);
// Writes all of `data` to the caller's stdout or stderr (best effort: a closed stream drops it).
void WriteToCaller(bool to_stderr, std::string_view data);

}  // namespace cordon::server
