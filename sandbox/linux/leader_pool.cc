#include "sandbox/linux/leader_pool.h"

#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace cordon::linux_sandbox {
namespace {

// The command travels to its leader as one datagram: a few integers, then length-prefixed
// strings; its stdio and status pipes ride along as SCM_RIGHTS. Both ends are this binary.
constexpr int kLeaderSocketFd = 3;
constexpr size_t kMaxFds = 4;

void PutU32(std::string& out, uint32_t v) { out.append(reinterpret_cast<const char*>(&v), sizeof(v)); }
void PutStr(std::string& out, const std::string& s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

std::string Encode(const LeaderSpec& spec) {
  std::string out;
  PutU32(out, (spec.tty ? 1u : 0u) | (spec.stdin_fd >= 0 ? 2u : 0u));
  PutU32(out, spec.timeout_ms);
  PutU32(out, spec.grace_ms);
  PutStr(out, spec.cwd);
  PutStr(out, spec.pty_slave);
  PutU32(out, static_cast<uint32_t>(spec.argv.size()));
  for (const auto& a : spec.argv) PutStr(out, a);
  PutU32(out, static_cast<uint32_t>(spec.env.size()));
  for (const auto& e : spec.env) PutStr(out, e);
  return out;
}

class Reader {
 public:
  explicit Reader(const std::string& in) : in_(in) {}
  bool U32(uint32_t* v) {
    if (in_.size() - at_ < sizeof(*v)) return false;
    std::memcpy(v, in_.data() + at_, sizeof(*v));
    at_ += sizeof(*v);
    return true;
  }
  bool Str(std::string* s) {
    uint32_t n;
    if (!U32(&n) || in_.size() - at_ < n) return false;
    s->assign(in_, at_, n);
    at_ += n;
    return true;
  }
  bool Strs(std::vector<std::string>* v) {
    uint32_t n;
    if (!U32(&n) || n > in_.size()) return false;
    v->resize(n);
    for (auto& s : *v)
      if (!Str(&s)) return false;
    return true;
  }

 private:
  const std::string& in_;
  size_t at_ = 0;
};

// The standby side: one datagram, or nothing (the worker is gone).
bool ReceiveSpec(int sock, LeaderSpec* spec) {
  ssize_t size;
  do size = ::recv(sock, nullptr, 0, MSG_PEEK | MSG_TRUNC);
  while (size < 0 && errno == EINTR);
  if (size <= 0) return false;
  std::string buf(static_cast<size_t>(size), '\0');
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n != size || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) return false;
  std::vector<int> fds;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      fds.push_back(fd);
    }
  }
  Reader r(buf);
  uint32_t flags;
  if (!r.U32(&flags) || !r.U32(&spec->timeout_ms) || !r.U32(&spec->grace_ms) || !r.Str(&spec->cwd) ||
      !r.Str(&spec->pty_slave) || !r.Strs(&spec->argv) || !r.Strs(&spec->env))
    return false;
  spec->tty = flags & 1u;
  size_t need = spec->tty ? 1 : (flags & 2u) ? 4 : 3;
  if (fds.size() != need) return false;
  spec->status_fd = fds[0];
  if (!spec->tty) {
    spec->stdout_fd = fds[1];
    spec->stderr_fd = fds[2];
    if (need == 4) spec->stdin_fd = fds[3];
  }
  return true;
}

// The new leader, in its own PID namespace: sheds the worker's fds, prepares itself, then
// waits for its command. A worker that goes away without sending one ends it.
[[noreturn]] void WaitForCommand(const LeaderSetup& setup, int sock) {
  if (sock != kLeaderSocketFd && ::dup2(sock, kLeaderSocketFd) < 0) ::_exit(1);
  ::syscall(SYS_close_range, kLeaderSocketFd + 1, ~0U, 0);
  PreparedLeader prepared = PrepareLeader(setup);
  LeaderSpec spec;
  if (!ReceiveSpec(kLeaderSocketFd, &spec)) ::_exit(0);
  ::close(kLeaderSocketFd);
  LimitLeader(setup, &prepared);
  RunLeader(spec, prepared);
}

}  // namespace

Result<StandbyLeader> LeaderPool::Start() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return ErrnoError(ErrorKind::kLimitExceeded, "start process: socketpair", errno);
  UniqueFd mine(sv[0]), theirs(sv[1]);
  int pidfd = -1;
  long pid = ::syscall(SYS_clone, CLONE_NEWPID | CLONE_PIDFD | SIGCHLD, nullptr, &pidfd, nullptr, nullptr);
  if (pid < 0) return ErrnoError(ErrorKind::kLimitExceeded, "start process", errno);
  if (pid == 0) {
    mine.reset();
    WaitForCommand(setup_, theirs.release());
  }
  return StandbyLeader(static_cast<pid_t>(pid), UniqueFd(pidfd), std::move(mine));
}

void LeaderPool::Refill() {
  if (ready_) return;
  auto leader = Start();
  if (leader) ready_.emplace(std::move(*leader));
}

int SendCommandToLeader(int leader_socket, const LeaderSpec& spec) {
  std::string body = Encode(spec);
  std::vector<int> fds = {spec.status_fd};
  if (!spec.tty) {
    fds.push_back(spec.stdout_fd);
    fds.push_back(spec.stderr_fd);
    if (spec.stdin_fd >= 0) fds.push_back(spec.stdin_fd);
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
  iovec iov{body.data(), body.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * fds.size());
  ssize_t n;
  do n = ::sendmsg(leader_socket, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(body.size())) return 0;
  return n < 0 ? errno : EMSGSIZE;
}

Result<StandbyLeader> LeaderPool::Take() {
  if (!ready_) return Start();
  StandbyLeader leader = std::move(*ready_);
  ready_.reset();
  return leader;
}

Result<StandbyLeader> LeaderPool::Launch(const LeaderSpec& spec) {
  // A waiting leader that died (its socket reports EPIPE/ECONNRESET) is replaced once.
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto leader = Take();
    if (!leader) return leader.error();
    int err = SendCommandToLeader(leader->socket_.get(), spec);
    if (err == 0) {
      leader->socket_.reset();
      return leader;
    }
    if (err != EPIPE && err != ECONNRESET) {
      ::syscall(SYS_pidfd_send_signal, leader->pidfd(), SIGKILL, nullptr, 0);
      return ErrnoError(ErrorKind::kLimitExceeded, "start process: hand over the command", err);
    }
  }
  return MakeError(ErrorKind::kSandboxFailed, "start process: leaders die before their command");
}

}  // namespace cordon::linux_sandbox
