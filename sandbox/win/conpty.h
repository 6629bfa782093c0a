// A pseudo console for `tty: true` commands (Windows 10 1809+). The worker writes keystrokes
// to input_write and reads the terminal stream from output_read; the command gets the console
// through PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE and inherits no handles. CreatePseudoConsole is
// looked up at run time, so a host without it reports kUnsupported instead of failing to load.
#pragma once

#include <windows.h>

#include <cstdint>

#include "sandbox/status.h"
#include "sandbox/win/scoped_handle.h"

namespace cordon::win {

class PseudoConsole {
 public:
  PseudoConsole() = default;
  PseudoConsole(const PseudoConsole&) = delete;
  PseudoConsole& operator=(const PseudoConsole&) = delete;
  PseudoConsole(PseudoConsole&& o) noexcept;
  PseudoConsole& operator=(PseudoConsole&& o) noexcept;
  ~PseudoConsole();

  static Result<PseudoConsole> Create(uint16_t cols, uint16_t rows);
  Status Resize(uint16_t cols, uint16_t rows);
  // Closing the console ends the output stream (after the command's last output).
  void Close();

  HPCON handle() const { return pc_; }
  HANDLE input_write() const { return input_write_.get(); }
  HANDLE output_read() const { return output_read_.get(); }

 private:
  HPCON pc_ = nullptr;
  ScopedHandle input_write_;
  ScopedHandle output_read_;
};

}  // namespace cordon::win
