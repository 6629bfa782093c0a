#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "sandbox/unique_fd.h"
#include "server/client_transport.h"

namespace cordon::server {
namespace {

class FdTransport : public ClientTransport {
 public:
  FdTransport(UniqueFd read_fd, UniqueFd write_fd, pid_t child)
      : read_fd_(std::move(read_fd)), write_fd_(std::move(write_fd)), child_(child) {}
  ~FdTransport() override {
    if (child_ > 0) Finish(0);
  }

  long Read(char* buf, size_t size) override {
    for (;;) {
      ssize_t n = ::read(read_fd_.get(), buf, size);
      if (n < 0 && errno == EINTR) continue;
      return static_cast<long>(n);
    }
  }

  bool Write(std::string_view data) override {
    if (!write_fd_) return false;
    while (!data.empty()) {
      ssize_t n = ::write(write_fd_.get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  void CloseWrite() override {
    if (child_ > 0 || !socket_) {
      write_fd_.reset();
    } else {
      ::shutdown(write_fd_.get(), SHUT_WR);
    }
  }

  int Finish(int grace_ms) override {
    if (child_ <= 0) return 0;
    CloseWrite();
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    for (;;) {
      pid_t r = ::waitpid(child_, &status, WNOHANG);
      if (r == child_) break;
      if (r < 0 && errno != EINTR) return 1;
      if (std::chrono::steady_clock::now() >= deadline) {
        ::kill(child_, SIGKILL);
        ::waitpid(child_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    child_ = -1;
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
  }

  void set_socket() { socket_ = true; }

 private:
  UniqueFd read_fd_;
  UniqueFd write_fd_;
  pid_t child_;
  bool socket_ = false;
};

}  // namespace

Result<std::unique_ptr<ClientTransport>> StartServerProcess(const std::vector<std::string>& argv) {
  if (argv.empty()) return MakeError(ErrorKind::kInvalidArgument, "empty server command");
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return ErrnoError(ErrorKind::kInternal, "pipe", errno);
  UniqueFd in_r(in[0]), in_w(in[1]);
  if (::pipe2(out, O_CLOEXEC) != 0) return ErrnoError(ErrorKind::kInternal, "pipe", errno);
  UniqueFd out_r(out[0]), out_w(out[1]);
  std::vector<std::string> args = argv;
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoError(ErrorKind::kInternal, "fork", errno);
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    ::execvp(cargv[0], cargv.data());
    ::_exit(127);
  }
  // A server that dies must not kill us with SIGPIPE: writes then fail with EPIPE instead.
  ::signal(SIGPIPE, SIG_IGN);
  return std::unique_ptr<ClientTransport>(new FdTransport(std::move(out_r), std::move(in_w), pid));
}

Result<std::unique_ptr<ClientTransport>> StartServerCommand(const std::string& command) {
  return StartServerProcess({"/bin/sh", "-c", command});
}

Result<std::unique_ptr<ClientTransport>> ConnectServer(const std::string& address) {
  if (address.rfind("unix:", 0) != 0)
    return MakeError(ErrorKind::kInvalidArgument, "--connect takes unix:PATH, got " + address);
  std::string path = address.substr(5);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof(addr.sun_path))
    return MakeError(ErrorKind::kInvalidArgument, "bad socket path: " + path);
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return ErrnoError(ErrorKind::kInternal, "socket", errno);
  if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    return ErrnoError(ErrorKind::kNotFound, "connect " + path, errno);
  UniqueFd dup(::fcntl(sock.get(), F_DUPFD_CLOEXEC, 0));
  if (!dup) return ErrnoError(ErrorKind::kInternal, "dup", errno);
  ::signal(SIGPIPE, SIG_IGN);
  auto t = std::make_unique<FdTransport>(std::move(sock), std::move(dup), -1);
  t->set_socket();
  return std::unique_ptr<ClientTransport>(std::move(t));
}

std::string SelfExecutablePath() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "cordon";
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace cordon::server
