// ByteChannel over POSIX descriptors: poll() on the input and a non-blocking wake pipe, so
// Interrupt() is one write() and works from any thread (or a signal-waiting thread).
// Writes go through a descriptor of our own with O_NONBLOCK (a socket is written with
// MSG_DONTWAIT; a pipe is reopened through /proc/self/fd, which gives a private open file
// description), so a writer waits in poll() and can give up: once the client has closed its
// input or Interrupt() was called, a write that makes no progress for kDrainMs fails, and
// shutting down never waits on a client that stopped reading.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>

#include "sandbox/unique_fd.h"
#include "server/stdio.h"

namespace cordon::server {
namespace {

// How long a closing connection waits for a client that does not read before dropping what
// is left to write.
constexpr int kDrainMs = 5000;

int64_t NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

class FdChannel final : public ByteChannel {
 public:
  FdChannel(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
      stop_read_.reset(p[0]);
      stop_write_.reset(p[1]);
    }
    struct stat st {};
    if (::fstat(out_fd_, &st) == 0) {
      if (S_ISSOCK(st.st_mode)) {
        socket_ = true;
      } else if (S_ISFIFO(st.st_mode)) {
        // Our own open file description: O_NONBLOCK here does not change the descriptor the
        // client or a parent shell shares with us. Without it (no /proc), writes block.
        std::string path = "/proc/self/fd/" + std::to_string(out_fd_);
        own_out_.reset(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
      }
    }
  }

  long Read(char* buf, size_t size) override {
    for (;;) {
      if (stopped_.load()) return -1;
      pollfd fds[2] = {{in_fd_, POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
      int r = ::poll(fds, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        return -1;
      }
      if (fds[1].revents) return -1;
      if (!fds[0].revents) continue;
      ssize_t n = ::read(in_fd_, buf, size);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return -1;
      }
      return static_cast<long>(n);
    }
  }

  bool WriteAll(std::string_view data) override {
    if (write_failed_) return false;
    while (!data.empty()) {
      ssize_t n;
      if (socket_) n = ::send(out_fd_, data.data(), data.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      else n = ::write(own_out_ ? own_out_.get() : out_fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN && AwaitWritable()) continue;
        write_failed_ = true;  // the client is gone or stopped reading; the read side ends too
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void Interrupt() override {
    stopped_.store(true);
    char c = 1;
    if (stop_write_) (void)!::write(stop_write_.get(), &c, 1);
  }

 private:
  // Waits until the output takes bytes again. False when the connection is closing (the
  // client closed its input, or Interrupt()) and the client has read nothing for kDrainMs.
  bool AwaitWritable() {
    int out = socket_ || !own_out_ ? out_fd_ : own_out_.get();
    int64_t deadline = -1;
    for (;;) {
      bool closing = stopped_.load() || input_closed_;
      if (closing && deadline < 0) deadline = NowMs() + kDrainMs;
      // While serving, also watch for the client closing its input (POLLHUP on a pipe,
      // POLLRDHUP on a socket) and for Interrupt(): either starts the bounded drain.
      pollfd fds[3] = {{out, POLLOUT, 0}, {in_fd_, POLLRDHUP, 0}, {stop_read_.get(), POLLIN, 0}};
      nfds_t count = closing ? 1 : 3;
      int timeout = closing ? static_cast<int>(deadline - NowMs()) : -1;
      if (closing && timeout <= 0) return false;
      int r = ::poll(fds, count, timeout);
      if (r < 0 && errno != EINTR) return false;
      if (r <= 0) continue;
      if (fds[0].revents) return true;  // writable, or an error the next write reports
      if (count > 1 && (fds[1].revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL))) input_closed_ = true;
    }
  }

  int in_fd_;
  int out_fd_;
  UniqueFd own_out_;
  bool socket_ = false;
  UniqueFd stop_read_, stop_write_;
  std::atomic<bool> stopped_{false};
  bool write_failed_ = false;  // guarded by the caller's write serialisation
  bool input_closed_ = false;  // likewise
};

}  // namespace

std::unique_ptr<ByteChannel> MakeFdChannel(int in_fd, int out_fd) {
  return std::make_unique<FdChannel>(in_fd, out_fd);
}

}  // namespace cordon::server
