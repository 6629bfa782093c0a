// Probe actions for the network, IPC, terminals, other processes and the kernel's attack
// surface. Each succeeds only when the kernel really did the thing (a connection answered, a
// file descriptor was created, a namespace exists), never on a guess.
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/userfaultfd.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/escape/probe.h"

namespace cordon::escape_probe {
namespace {

// Reads the listener's greeting ("cordon-listener"): proof that the peer outside answered.
Outcome ExpectGreeting(int fd, const char* what) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[64] = {};
  ssize_t n = ::recv(fd, buf, sizeof(buf) - 1, 0);
  int err = errno;
  ::close(fd);
  if (n < 0) return Failed(what, err);
  return std::strstr(buf, "cordon-listener") ? kSucceeded : Failed(what, EPROTO);
}

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

Outcome Tcp(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed("socket(AF_INET, SOCK_STREAM)", errno);
  sockaddr_in a = Loopback(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    int err = errno;
    ::close(fd);
    return Failed("connect 127.0.0.1", err);
  }
  return ExpectGreeting(fd, "tcp recv");
}

// Sends `payload` to 127.0.0.1:port over UDP and waits for any reply (the test's responder
// answers "cordon-listener" to a ping and a DNS answer to a DNS query).
Outcome UdpExchange(int port, const std::string& payload, std::string* reply) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed("socket(AF_INET, SOCK_DGRAM)", errno);
  sockaddr_in a = Loopback(port);
  if (::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof(a)) < 0) {
    int err = errno;
    ::close(fd);
    return Failed("sendto", err);
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  char buf[512];
  ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
  int err = errno;
  ::close(fd);
  if (n < 0) return Failed("udp recv", err == EAGAIN ? ETIMEDOUT : err);
  reply->assign(buf, static_cast<size_t>(n));
  return kSucceeded;
}

// A DNS query for cordon.test/A; succeeds on an answer with the same id and the QR bit.
Outcome Dns(int port) {
  const unsigned char q[] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 6, 'c', 'o', 'r', 'd', 'o', 'n',
                             4, 't', 'e', 's', 't', 0, 0, 1, 0, 1};
  std::string reply;
  Outcome o = UdpExchange(port, std::string(reinterpret_cast<const char*>(q), sizeof(q)), &reply);
  if (o != kSucceeded) return o;
  if (reply.size() < 12 || static_cast<unsigned char>(reply[0]) != 0x12 || !(reply[2] & 0x80))
    return Failed("dns: malformed answer", EPROTO);
  return kSucceeded;
}

Outcome Unix(const std::string& path, bool abstract) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Failed("socket(AF_UNIX)", errno);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  size_t off = abstract ? 1 : 0;
  std::memcpy(a.sun_path + off, path.data(), std::min(path.size(), sizeof(a.sun_path) - 1 - off));
  socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + off + path.size() + (abstract ? 0 : 1));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), len) != 0) {
    int err = errno;
    ::close(fd);
    return Failed(("connect unix " + path).c_str(), err);
  }
  return ExpectGreeting(fd, "unix recv");
}

// PTRACE_SEIZE does not stop the target; detach right away.
Outcome Ptrace(pid_t pid) {
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, nullptr) != 0) return Failed("ptrace(PTRACE_SEIZE)", errno);
  ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
  return kSucceeded;
}

Outcome FdOrError(long rc, const char* what) {
  if (rc < 0) return Failed(what, errno);
  ::close(static_cast<int>(rc));
  return kSucceeded;
}

Outcome Bpf() {
  struct bpf_insn prog[] = {
      {BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0},  // r0 = 0
      {BPF_JMP | BPF_EXIT, 0, 0, 0, 0},
  };
  char license[] = "GPL";
  union bpf_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
  attr.insn_cnt = 2;
  attr.insns = reinterpret_cast<uint64_t>(prog);
  attr.license = reinterpret_cast<uint64_t>(license);
  return FdOrError(::syscall(__NR_bpf, BPF_PROG_LOAD, &attr, sizeof(attr)), "bpf(BPF_PROG_LOAD)");
}

Outcome Perf() {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_TASK_CLOCK;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  return FdOrError(::syscall(__NR_perf_event_open, &attr, 0, -1, -1, 0), "perf_event_open");
}

// The child of a clone with `flags` exits at once; success means the namespace was created.
Outcome CloneWith(unsigned long flags, bool use_clone3) {
  long pid;
  if (use_clone3) {
    clone_args args{};
    args.flags = flags;
    args.exit_signal = SIGCHLD;
    pid = ::syscall(__NR_clone3, &args, sizeof(args));
  } else {
    pid = ::syscall(__NR_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  }
  if (pid < 0) return Failed(use_clone3 ? "clone3" : "clone", errno);
  if (pid == 0) ::_exit(0);
  int st = 0;
  ::waitpid(static_cast<pid_t>(pid), &st, 0);
  return kSucceeded;
}

// A fresh mount namespace (inside a fresh user namespace when `userns`), then a tmpfs mount.
Outcome MountTmpfs(bool userns) {
  if (::unshare(CLONE_NEWNS | (userns ? CLONE_NEWUSER : 0)) != 0) return Failed("unshare", errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return Failed("make private", errno);
  if (::mount("tmpfs", "/tmp", "tmpfs", 0, "size=1m") != 0) return Failed("mount tmpfs", errno);
  return kSucceeded;
}

// TIOCSTI on fd 0 (a terminal the driver provides): pushes a byte into its input queue.
Outcome Tiocsti() {
  char c = '#';
  if (::ioctl(0, TIOCSTI, &c) != 0) return Failed("ioctl(TIOCSTI)", errno);
  return kSucceeded;
}

// TIOCLINUX on fd 0. There is no virtual console here, so the kernel's answer on a pty is
// ENOTTY/EINVAL from the tty layer: that means the request reached the driver (SUCCEEDED for
// this probe); the seccomp filter answers EPERM before the kernel ever looks (DENIED).
Outcome Tioclinux() {
  char sub = 7;  // TIOCL_GETMOUSEREPORTING: read-only
  if (::ioctl(0, TIOCLINUX, &sub) == 0) return kSucceeded;
  int err = errno;
  if (err == ENOTTY || err == EINVAL) {
    std::fprintf(stderr, "probe: TIOCLINUX reached the tty driver (%s)\n", std::strerror(err));
    return kSucceeded;
  }
  return Failed("ioctl(TIOCLINUX)", err);
}

}  // namespace

Outcome RunKernelAction(const std::string& action, const Args& a, bool* known) {
  *known = true;
  int n = a.empty() ? 0 : std::atoi(a[0].c_str());
  const std::string arg = a.empty() ? "" : a[0];
  if (action == "tcp") return Tcp(n);
  if (action == "udp") {
    std::string reply;
    Outcome o = UdpExchange(n, "ping", &reply);
    if (o == kSucceeded && reply.find("cordon-listener") == std::string::npos) return Failed("udp reply", EPROTO);
    return o;
  }
  if (action == "dns") return Dns(n);
  if (action == "raw") return FdOrError(::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP), "socket(SOCK_RAW)");
  if (action == "unix-abstract") return Unix(arg, true);
  if (action == "unix-path") return Unix(arg, false);
  if (action == "kill") return ::kill(n, SIGCONT) == 0 ? kSucceeded : Failed("kill", errno);
  if (action == "ptrace") return Ptrace(n);
  if (action == "tiocsti") return Tiocsti();
  if (action == "tioclinux") return Tioclinux();
  if (action == "io_uring") {
    unsigned char params[120] = {};  // struct io_uring_params
    return FdOrError(::syscall(__NR_io_uring_setup, 4, params), "io_uring_setup");
  }
  if (action == "userfaultfd") {
    // UFFD_USER_MODE_ONLY: what an unprivileged process may ask for when
    // vm.unprivileged_userfaultfd is 0.
    return FdOrError(::syscall(__NR_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY), "userfaultfd");
  }
  if (action == "bpf") return Bpf();
  if (action == "perf") return Perf();
  // Succeeds while the bounding set still holds a capability that a later exec could grant.
  if (action == "capbnd") {
    for (int cap = 0; cap < 64; ++cap) {
      int held = ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
      if (held < 0) break;  // past the kernel's last capability
      if (held == 1) {
        std::fprintf(stderr, "probe: capability %d is in the bounding set\n", cap);
        return kSucceeded;
      }
    }
    return kDenied;
  }
  if (action == "userns") return ::unshare(CLONE_NEWUSER) == 0 ? kSucceeded : Failed("unshare(CLONE_NEWUSER)", errno);
  if (action == "clone-userns") return CloneWith(CLONE_NEWUSER, false);
  if (action == "clone3-userns") return CloneWith(CLONE_NEWUSER, true);
  if (action == "userns-mount") return MountTmpfs(true);
  if (action == "mount") return MountTmpfs(false);
  *known = false;
  return kProbeError;
}

}  // namespace cordon::escape_probe
