#include "sandbox/win/output_queue.h"

#include <utility>

namespace cordon::win {

void OutputQueue::Push(OutputChunk chunk) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    chunks_.push_back(std::move(chunk));
  }
  cv_.notify_all();
}

void OutputQueue::End(OutputStream stream) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_) return;
    ended_ = true;
    chunks_.push_back(OutputChunk{stream, "", true});
  }
  cv_.notify_all();
}

OutputChunk OutputQueue::Take(size_t max_bytes) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !chunks_.empty(); });
  OutputChunk& front = chunks_.front();
  if (front.eof) return front;
  if (front.data.size() <= max_bytes) {
    OutputChunk out = std::move(front);
    chunks_.pop_front();
    return out;
  }
  OutputChunk out{front.stream, front.data.substr(0, max_bytes), false};
  front.data.erase(0, max_bytes);
  return out;
}

}  // namespace cordon::win
