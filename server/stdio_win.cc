// ByteChannel over Windows handles. Anonymous pipes and consoles cannot be waited on together
// with an event, so a reader thread does blocking ReadFile calls and hands each chunk over;
// Interrupt() only wakes the consumer. The reader, possibly still blocked in ReadFile on stdin,
// is cancelled with CancelSynchronousIo when the channel goes away, and detached if the
// system does not cancel it (its state is shared, so a late return touches nothing freed).
#include <io.h>
#include <windows.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "sandbox/win/scoped_handle.h"
#include "server/stdio.h"

namespace cordon::server {
namespace {

struct ReaderState {
  std::mutex mu;
  std::condition_variable cv;
  std::string chunk;       // bytes handed over and not yet consumed
  size_t chunk_off = 0;
  bool has_chunk = false;
  bool eof = false;
  bool failed = false;
  bool stopped = false;
  bool done = false;       // the reader thread has returned
  win::ScopedHandle thread;  // the reader, for CancelSynchronousIo
};

void ReaderLoop(const std::shared_ptr<ReaderState>& s, HANDLE in) {
  bool pipe = ::GetFileType(in) == FILE_TYPE_PIPE;
  std::string buf(1 << 16, '\0');
  for (;;) {
    DWORD n = 0;
    BOOL ok = ::ReadFile(in, buf.data(), static_cast<DWORD>(buf.size()), &n, nullptr);
    DWORD err = ok ? ERROR_SUCCESS : ::GetLastError();
    std::unique_lock<std::mutex> lock(s->mu);
    if (s->stopped) break;
    if (!ok) {
      if (err == ERROR_BROKEN_PIPE || err == ERROR_HANDLE_EOF) s->eof = true;
      else s->failed = true;
      break;
    }
    if (n == 0) {
      // A zero-length write by the peer also completes a read with 0 bytes; the pipe is still
      // open then. Anything else (a file, a console, a POSIX pipe under Wine) is the end.
      if (pipe && ::PeekNamedPipe(in, nullptr, 0, nullptr, nullptr, nullptr)) continue;
      s->eof = true;
      break;
    }
    s->chunk.assign(buf.data(), n);
    s->chunk_off = 0;
    s->has_chunk = true;
    s->cv.notify_all();
    // One chunk in flight: a slow dispatcher slows the client instead of growing our memory.
    s->cv.wait(lock, [&] { return !s->has_chunk || s->stopped; });
    if (s->stopped) break;
  }
  std::lock_guard<std::mutex> lock(s->mu);
  s->done = true;
  s->cv.notify_all();
}

class HandleChannel final : public ByteChannel {
 public:
  HandleChannel(HANDLE in, HANDLE out) : in_(in), out_(out), state_(std::make_shared<ReaderState>()) {}

  ~HandleChannel() override {
    Interrupt();
    if (!reader_.joinable()) return;
    std::unique_lock<std::mutex> lock(state_->mu);
    for (int i = 0; i < 50 && !state_->done; ++i) {
      if (state_->thread) ::CancelSynchronousIo(state_->thread.get());
      state_->cv.wait_for(lock, std::chrono::milliseconds(20));
    }
    bool done = state_->done;
    lock.unlock();
    if (done) reader_.join();
    else reader_.detach();  // stuck in ReadFile on a handle nobody else reads; exits with us
  }

  long Read(char* buf, size_t size) override {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!reader_.joinable() && !state_->stopped) StartReader();
    state_->cv.wait(lock, [&] {
      return state_->stopped || state_->has_chunk || state_->eof || state_->failed;
    });
    if (state_->stopped) return -1;
    if (state_->has_chunk) {
      size_t n = std::min(size, state_->chunk.size() - state_->chunk_off);
      std::memcpy(buf, state_->chunk.data() + state_->chunk_off, n);
      state_->chunk_off += n;
      if (state_->chunk_off == state_->chunk.size()) {
        state_->has_chunk = false;
        state_->cv.notify_all();
      }
      return static_cast<long>(n);
    }
    return state_->eof ? 0 : -1;
  }

  bool WriteAll(std::string_view data) override {
    if (write_failed_) return false;
    while (!data.empty()) {
      DWORD n = 0;
      DWORD want = static_cast<DWORD>(std::min<size_t>(data.size(), 1u << 20));
      if (!::WriteFile(out_, data.data(), want, &n, nullptr)) {
        write_failed_ = true;  // the client closed its end
        return false;
      }
      data.remove_prefix(n);
    }
    return true;
  }

  void Interrupt() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    state_->stopped = true;
    state_->cv.notify_all();
  }

 private:
  // Called with state_->mu held.
  void StartReader() {
    auto state = state_;
    HANDLE in = in_;
    reader_ = std::thread([state, in] {
      HANDLE h = nullptr;
      ::DuplicateHandle(::GetCurrentProcess(), ::GetCurrentThread(), ::GetCurrentProcess(), &h, 0, FALSE,
                        DUPLICATE_SAME_ACCESS);
      {
        std::lock_guard<std::mutex> lock(state->mu);
        state->thread.reset(h);
      }
      ReaderLoop(state, in);
    });
  }

  HANDLE in_;
  HANDLE out_;
  std::shared_ptr<ReaderState> state_;
  std::thread reader_;
  bool write_failed_ = false;
};

}  // namespace

std::unique_ptr<ByteChannel> MakeFdChannel(int in_fd, int out_fd) {
  return std::make_unique<HandleChannel>(reinterpret_cast<HANDLE>(::_get_osfhandle(in_fd)),
                                         reinterpret_cast<HANDLE>(::_get_osfhandle(out_fd)));
}

}  // namespace cordon::server
