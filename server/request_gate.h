// Holds a connection's incoming frames while the server waits for an answer it needs before
// serving them: the MCP client's roots decide the default session's workspace, and a request
// that builds that session before they arrive would build it on the wrong directory. Answers to
// the server's own requests pass straight through (one of them is what opens the gate); every
// other frame is held and then dispatched in arrival order when the gate opens, when its
// deadline passes, or when too much has been held.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "protocol/framing.h"

namespace cordon::server {

class RequestGate {
 public:
  using Dispatch = std::function<void(const protocol::Frame&, protocol::Framing)>;
  explicit RequestGate(Dispatch dispatch) : dispatch_(std::move(dispatch)) {}
  ~RequestGate();
  RequestGate(const RequestGate&) = delete;
  RequestGate& operator=(const RequestGate&) = delete;

  // Starts holding. After `deadline` the gate opens by itself, calling `on_timeout` first.
  void Close(std::chrono::milliseconds deadline, std::function<void()> on_timeout);
  // Dispatches the frame now, or holds it until the gate opens. Called on the reading thread.
  void Submit(protocol::Frame frame, protocol::Framing framing);
  // Dispatches what is held, in order, and lets later frames through. Any thread; idempotent.
  void Open();
  bool closed() const;
  // Stops the deadline timer (waiting for a dispatch it is running); held frames are dropped.
  // The owner calls this before dismantling what dispatched frames use.
  void Shutdown();

 private:
  static constexpr size_t kMaxHeldBytes = 64u << 20;
  static constexpr size_t kMaxHeldFrames = 4096;

  void Flush(std::unique_lock<std::mutex>& lock);

  Dispatch dispatch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  bool stopping_ = false;
  std::deque<std::pair<protocol::Frame, protocol::Framing>> held_;
  size_t held_bytes_ = 0;
  std::thread timer_;
};

}  // namespace cordon::server
