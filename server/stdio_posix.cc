// ByteChannel over POSIX descriptors: poll() on the input and a non-blocking wake pipe, so
// Interrupt() is one write() and works from any thread (or a signal-waiting thread).
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "sandbox/unique_fd.h"
#include "server/stdio.h"

namespace cordon::server {
namespace {

class FdChannel final : public ByteChannel {
 public:
  FdChannel(int in_fd, int out_fd) : in_fd_(in_fd), out_fd_(out_fd) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0) {
      stop_read_.reset(p[0]);
      stop_write_.reset(p[1]);
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
      ssize_t n = ::write(out_fd_, data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN) {
          pollfd p{out_fd_, POLLOUT, 0};
          ::poll(&p, 1, 1000);
          continue;
        }
        write_failed_ = true;  // the client is gone; the read side will see EOF
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
  int in_fd_;
  int out_fd_;
  UniqueFd stop_read_, stop_write_;
  std::atomic<bool> stopped_{false};
  bool write_failed_ = false;
};

}  // namespace

std::unique_ptr<ByteChannel> MakeFdChannel(int in_fd, int out_fd) {
  return std::make_unique<FdChannel>(in_fd, out_fd);
}

}  // namespace cordon::server
