// `cordon serve` on POSIX: stdio or a unix socket listener; SIGTERM/SIGINT/SIGHUP are taken
// by one sigwait() thread and stop every connection.
#include "server/serve.h"

#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "sandbox/unique_fd.h"
#include "server/connection.h"
#include "server/connection_set.h"

namespace cordon::server {
namespace {

// Waits for a termination signal on a dedicated thread and stops every connection.
void StartSignalThread(int wake_fd) {
  std::thread([wake_fd] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    int sig = 0;
    sigwait(&set, &sig);
    spdlog::info("received signal {}, shutting down", sig);
    StopAllConnections();
    if (wake_fd >= 0) ::shutdown(wake_fd, SHUT_RDWR);
  }).detach();
}

int ServeUnix(ServerContext& context, const std::string& path) {
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    spdlog::error("socket path too long: {}", path);
    return 2;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  ::unlink(path.c_str());
  mode_t old = ::umask(0077);  // the socket is 0600: only this user may connect
  int rc = ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::umask(old);
  if (rc != 0 || ::listen(sock.get(), 16) != 0) {
    spdlog::error("cannot listen on {}: {}", path, std::strerror(errno));
    return 2;
  }
  spdlog::info("listening on unix:{}", path);
  StartSignalThread(sock.get());
  std::vector<std::thread> threads;
  while (!ServerStopping()) {
    int fd = ::accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      break;
    }
    threads.emplace_back([&context, fd] {
      UniqueFd owned(fd);
      Connection c(context, fd, fd);
      TrackConnection(&c);
      c.Run();
      UntrackConnection(&c);
    });
  }
  StopAllConnections();
  for (auto& t : threads) t.join();
  ::unlink(path.c_str());
  return 0;
}

}  // namespace

void PrepareProcessSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

int Serve(ServerContext& context, const std::string& listen) {
  // Signals are taken synchronously by one thread; every other thread keeps them blocked.
  PrepareProcessSignals();
  if (!listen.empty()) {
    if (listen.rfind("unix:", 0) != 0) {
      spdlog::error("--listen takes unix:PATH");
      return 2;
    }
    return ServeUnix(context, listen.substr(5));
  }
  StartSignalThread(-1);
  Connection c(context, STDIN_FILENO, STDOUT_FILENO);
  TrackConnection(&c);
  int code = c.Run();
  UntrackConnection(&c);
  return code;
}

}  // namespace cordon::server
