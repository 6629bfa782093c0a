#include "server/request_gate.h"

#include "protocol/jsonrpc.h"

namespace cordon::server {
namespace {

// An answer to a request the server sent: an object with an id and no method. Anything the
// parser refuses is held like any other frame (the dispatcher answers it in order).
bool IsResponse(const protocol::Frame& frame) {
  if (frame.kind != protocol::Frame::Kind::kMessage) return false;
  protocol::Parsed parsed = protocol::ParseJson(frame.body, protocol::kMaxAcceptedDepth);
  if (!parsed.json) return false;
  return std::holds_alternative<protocol::Response>(protocol::ClassifyMessage(*parsed.json));
}

}  // namespace

RequestGate::~RequestGate() { Shutdown(); }

void RequestGate::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    held_.clear();
    held_bytes_ = 0;
  }
  cv_.notify_all();
  if (timer_.joinable()) timer_.join();
}

void RequestGate::Close(std::chrono::milliseconds deadline, std::function<void()> on_timeout) {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || stopping_ || timer_.joinable()) return;  // one wait per connection
  closed_ = true;
  timer_ = std::thread([this, until = std::chrono::steady_clock::now() + deadline, on_timeout = std::move(on_timeout)] {
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_until(lock, until, [this] { return !closed_ || stopping_; })) return;
    lock.unlock();
    if (on_timeout) on_timeout();
    lock.lock();
    Flush(lock);
  });
}

void RequestGate::Submit(protocol::Frame frame, protocol::Framing framing) {
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return;
  if (closed_ && !IsResponse(frame)) {
    held_bytes_ += frame.body.size();
    held_.emplace_back(std::move(frame), framing);
    // A client that floods before answering gets served rather than buffered without bound.
    if (held_bytes_ > kMaxHeldBytes || held_.size() > kMaxHeldFrames) Flush(lock);
    return;
  }
  lock.unlock();
  dispatch_(frame, framing);
}

void RequestGate::Open() {
  std::unique_lock<std::mutex> lock(mu_);
  Flush(lock);
}

bool RequestGate::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

// Dispatches under the lock, so frames that arrive meanwhile queue behind the held ones and
// the order the client sent them in is kept.
void RequestGate::Flush(std::unique_lock<std::mutex>& lock) {
  while (!held_.empty() && !stopping_) {
    auto [frame, framing] = std::move(held_.front());
    held_.pop_front();
    held_bytes_ -= frame.body.size();
    dispatch_(frame, framing);
  }
  closed_ = false;
  (void)lock;
  cv_.notify_all();
}

}  // namespace cordon::server
