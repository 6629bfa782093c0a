// Cancellation of one in-flight request. The dispatcher owns a token per request id; handlers
// poll cancelled() or register OnCancel callbacks (e.g. "kill this process tree"). Callbacks
// run exactly once, on the thread that cancels, or at once if already cancelled.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace cordon::protocol {

class CancellationState {
 public:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  const std::atomic<bool>* flag() const { return &cancelled_; }

  void OnCancel(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!cancelled_.load()) {
        callbacks_.push_back(std::move(fn));
        return;
      }
    }
    fn();
  }

  void Cancel() {
    std::vector<std::function<void()>> run;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (cancelled_.exchange(true)) return;
      run.swap(callbacks_);
    }
    for (auto& fn : run) fn();
  }

 private:
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::vector<std::function<void()>> callbacks_;
};

using CancellationToken = std::shared_ptr<CancellationState>;

}  // namespace cordon::protocol
