// The byte stream under one connection: a blocking read that another thread can interrupt,
// and a write that reports a vanished peer. Connection is written against this, so the
// platform's way of waiting on stdin or a socket (poll + a wake pipe on POSIX, a reader thread
// over ReadFile on Windows) lives in stdio_posix.cc / stdio_win.cc and nowhere else.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

namespace cordon::server {

class ByteChannel {
 public:
  virtual ~ByteChannel() = default;
  // Blocks until bytes arrive. Returns their count, 0 at end of input, or -1 once Interrupt()
  // was called or the read failed. One reader thread at a time.
  virtual long Read(char* buf, size_t size) = 0;
  // Writes every byte; false when the peer is gone (later writes fail at once). Callers
  // serialise writes. Once the client has closed its input or Interrupt() was called, a write
  // the client does not read for a few seconds fails too (POSIX), so a connection can always
  // close.
  virtual bool WriteAll(std::string_view data) = 0;
  // Thread-safe and idempotent: the pending Read (and every later one) returns -1 soon.
  virtual void Interrupt() = 0;
};

// A channel over two descriptors the caller keeps open for the channel's lifetime (they may be
// the same socket). On Windows these are C runtime descriptors (0 and 1 for stdio).
std::unique_ptr<ByteChannel> MakeFdChannel(int in_fd, int out_fd);

}  // namespace cordon::server
