#include "sandbox/linux/ipc.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

namespace cordon::linux_sandbox {

Status SendIpc(int socket, const nlohmann::json& body, const std::vector<int>& fds) {
  std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > kMaxIpcMessage) return MakeError(ErrorKind::kLimitExceeded, "worker message too large");
  if (fds.size() > kMaxIpcFds) return MakeError(ErrorKind::kInternal, "too many fds in one worker message");
  iovec iov{text.data(), text.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxIpcFds)];
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  }
  for (;;) {
    ssize_t n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
    if (n >= 0) return OkStatus();
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) return MakeError(ErrorKind::kSandboxFailed, "worker connection closed");
    return ErrnoError(ErrorKind::kSandboxFailed, "send to worker", errno);
  }
}

Result<IpcMessage> ReceiveIpc(int socket) {
  // Peek the datagram size first so a large message is not truncated, and allocate exactly that:
  // zero-filling a fixed 64 KiB buffer cost the worker 16 copy-on-write faults per message (it
  // forks for every command and operation).
  std::string buf;
  for (;;) {
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxIpcFds)];
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    ssize_t peeked = ::recv(socket, buf.data(), 0, MSG_PEEK | MSG_TRUNC);
    if (peeked < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(ErrorKind::kSandboxFailed, "receive from worker", errno);
    }
    if (static_cast<size_t>(peeked) > kMaxIpcMessage) return MakeError(ErrorKind::kLimitExceeded, "worker message too large");
    buf.resize(static_cast<size_t>(peeked));
    iov = {buf.data(), buf.size()};
    ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(ErrorKind::kSandboxFailed, "receive from worker", errno);
    }
    IpcMessage out;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int fd;
          std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          out.fds.emplace_back(fd);
        }
      }
    }
    if (n == 0 && out.fds.empty()) return MakeError(ErrorKind::kSandboxFailed, "worker connection closed");
    if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return MakeError(ErrorKind::kSandboxFailed, "worker message truncated");
    out.body = nlohmann::json::parse(buf.data(), buf.data() + n, nullptr, false);
    if (out.body.is_discarded() || !out.body.is_object())
      return MakeError(ErrorKind::kSandboxFailed, "malformed worker message");
    return out;
  }
}

Status MakeSocketPair(UniqueFd* a, UniqueFd* b) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return ErrnoError(ErrorKind::kSandboxFailed, "socketpair", errno);
  a->reset(sv[0]);
  b->reset(sv[1]);
  return OkStatus();
}

}  // namespace cordon::linux_sandbox
