// The output of one command on its way from the thread(s) that collect it to
// SandboxProcess::ReadOutput: chunks in arrival order, then one end marker that every later
// read sees again. Shared by both Windows process kinds (win_process.h, elevated_process.h).
// Thread-safe: any number of writers, one reader.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>

#include "sandbox/session.h"

namespace cordon::win {

class OutputQueue {
 public:
  void Push(OutputChunk chunk);
  // Queues the end marker (tagged with `stream`); calls after the first are ignored.
  void End(OutputStream stream);
  // Blocks until something is queued, then takes up to `max_bytes` of the oldest chunk (the
  // rest stays at the front). The end marker is never taken: it is returned again and again.
  OutputChunk Take(size_t max_bytes);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<OutputChunk> chunks_;
  bool ended_ = false;
};

}  // namespace cordon::win
