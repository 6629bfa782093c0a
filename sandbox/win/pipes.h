// Pipes between the worker and a command. The worker's end is an overlapped named-pipe
// instance (usable with IOCP / asio stream_handle); the command's end is a plain synchronous
// handle made inheritable only so it can be listed in PROC_THREAD_ATTRIBUTE_HANDLE_LIST. Each
// pipe has a single instance that we connect at once, so no other process can open it by name.
#pragma once

#include <windows.h>

#include <string>

#include "sandbox/status.h"
#include "sandbox/win/scoped_handle.h"

namespace cordon::win {

struct PipePair {
  ScopedHandle parent;  // overlapped, not inheritable
  ScopedHandle child;   // synchronous, inheritable
};

// parent_reads: the command writes (stdout/stderr); otherwise the command reads (stdin).
Result<PipePair> CreateCommandPipe(bool parent_reads);

// Reads until EOF (or broken pipe) from an overlapped handle, blocking. Caps at max_bytes and
// drains the rest. For tests and simple callers; the worker streams instead.
Result<std::string> ReadToEnd(HANDLE overlapped_read, size_t max_bytes = 64u << 20);
// One blocking read of up to `len` bytes from an overlapped or synchronous handle. 0 means
// end of stream (the writer closed its end).
Result<size_t> ReadSome(HANDLE h, char* buf, size_t len);
// Blocking write of all bytes to an overlapped handle.
Status WriteAll(HANDLE overlapped_write, const std::string& bytes);

}  // namespace cordon::win
