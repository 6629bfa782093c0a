// Test helper: records what a Dispatcher sends, from any thread, and lets a test wait (with a
// generous limit, never as synchronisation by sleeping) for a number of messages.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "protocol/dispatcher.h"

namespace cordon::protocol::testing {

class WireRecorder {
 public:
  Dispatcher::Sender Sender() {
    return [this](const Json& m) {
      std::lock_guard<std::mutex> lock(mu_);
      messages_.push_back(m);
      cv_.notify_all();
    };
  }

  // Waits until at least n messages arrived (or 30 s passed); returns a copy of all of them.
  std::vector<Json> WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return messages_.size() >= n; });
    return messages_;
  }
  std::vector<Json> Snapshot() {
    std::lock_guard<std::mutex> lock(mu_);
    return messages_;
  }
  std::vector<Json> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<Json> out;
    out.swap(messages_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Json> messages_;
};

// Builds a message frame from JSON text.
inline Frame Msg(const std::string& text) { return Frame{Frame::Kind::kMessage, text}; }

}  // namespace cordon::protocol::testing
