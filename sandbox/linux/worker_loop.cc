#include "sandbox/linux/worker_loop.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <optional>

#include "sandbox/linux/capabilities.h"
#include "sandbox/linux/ipc.h"
#include "sandbox/linux/leader.h"
#include "sandbox/linux/leader_pool.h"
#include "sandbox/linux/seccomp_policy.h"
#include "sandbox/linux/worker_init.h"
#include "sandbox/linux/worker_ops.h"

namespace cordon::linux_sandbox {
namespace {

struct WorkerState {
  int control = -1;
  WorkerInit init;
  std::optional<Policy> policy;
  std::optional<LeaderPool> leaders;
};

Status Confine(WorkerState& w) {
  if (w.init.use_mounts) {
    if (Status s = ApplyMountPlan(w.init.mounts); !s) return s;
  }
  if (::sethostname(w.init.hostname.data(), w.init.hostname.size()) != 0 && errno != EPERM)
    return ErrnoError(ErrorKind::kSandboxFailed, "sethostname", errno);
  if (w.init.landlock_abi > 0 || w.init.landlock.required) {
    if (Status s = ApplyLandlock(w.init.landlock, w.init.landlock_abi); !s) return s;
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoError(ErrorKind::kSandboxFailed, "no_new_privs", errno);
  if (Status s = LoadSeccomp(w.init.worker_filter); !s) return s;
  // Keep only CAP_SYS_ADMIN of our own user namespace (to start each command as init of a new
  // PID namespace; seccomp already forbids mounting with it) and, when held, CAP_SETPCAP (so a
  // command's leader can empty its bounding set before dropping everything).
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capget, &hdr, data) != 0) return ErrnoError(ErrorKind::kSandboxFailed, "capget", errno);
  const uint32_t keep = data[0].permitted & ((1u << CAP_SYS_ADMIN) | (1u << CAP_SETPCAP));
  data[0] = {};
  data[1] = {};
  data[0].effective = data[0].permitted = keep;
  if (::syscall(SYS_capset, &hdr, data) != 0) return ErrnoError(ErrorKind::kSandboxFailed, "capset", errno);
  ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (::prctl(PR_SET_DUMPABLE, 0) != 0) return ErrnoError(ErrorKind::kSandboxFailed, "dumpable", errno);
  // Leaders and operation children are reaped by the kernel.
  ::signal(SIGCHLD, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  auto policy = PolicyFromJson(w.init.policy);
  if (!policy) return policy.error();
  w.policy.emplace(std::move(*policy));
  w.leaders.emplace(LeaderSetup{&w.init.command_filter, w.policy->limits(), w.init.cgroup_enforces_limits});
  return OkStatus();
}

void ReplyError(int control, const nlohmann::json& id, const Error& e) {
  (void)SendIpc(control, {{"t", "error"}, {"id", id}, {"kind", ErrorKindName(e.kind)}, {"detail", e.detail}});
}

void HandleSpawn(WorkerState& w, IpcMessage& msg) {
  const auto& b = msg.body;
  auto id = b.value("id", nlohmann::json());
  LeaderSpec spec;
  try {
    spec.argv = b.at("argv").get<std::vector<std::string>>();
    spec.env = b.at("env").get<std::vector<std::string>>();
    spec.cwd = b.at("cwd");
    spec.tty = b.at("tty");
    spec.timeout_ms = b.at("timeoutMs");
    spec.grace_ms = b.at("graceMs");
  } catch (const nlohmann::json::exception& e) {
    return ReplyError(w.control, id, MakeError(ErrorKind::kInvalidArgument, e.what()));
  }
  bool want_stdin = b.value("stdin", false);
  size_t need = spec.tty ? 1 : (want_stdin ? 4 : 3);
  if (msg.fds.size() != need) return ReplyError(w.control, id, MakeError(ErrorKind::kInternal, "spawn: wrong number of fds"));
  spec.status_fd = msg.fds[0].get();
  UniqueFd master;
  if (spec.tty) {
    master.reset(::open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master) return ReplyError(w.control, id, ErrnoError(ErrorKind::kSandboxFailed, "open /dev/ptmx", errno));
    int unlock = 0;
    int n = 0;
    if (::ioctl(master.get(), TIOCSPTLCK, &unlock) != 0 || ::ioctl(master.get(), TIOCGPTN, &n) != 0)
      return ReplyError(w.control, id, ErrnoError(ErrorKind::kSandboxFailed, "pty setup", errno));
    spec.pty_slave = "/dev/pts/" + std::to_string(n);
    winsize ws{};
    ws.ws_col = b.value("cols", 80);
    ws.ws_row = b.value("rows", 24);
    ::ioctl(master.get(), TIOCSWINSZ, &ws);
  } else {
    spec.stdout_fd = msg.fds[1].get();
    spec.stderr_fd = msg.fds[2].get();
    if (want_stdin) spec.stdin_fd = msg.fds[3].get();
  }
  auto leader = w.leaders->Launch(spec);
  if (!leader) return ReplyError(w.control, id, leader.error());
  msg.fds.clear();  // our copies of the command's pipes close here
  std::vector<int> fds = {leader->pidfd()};
  if (master) fds.push_back(master.get());
  if (Status sent = SendIpc(w.control, {{"t", "spawned"}, {"id", id}, {"pid", leader->pid()}}, fds); !sent) {
    // The broker waits for an answer with the control channel held: never leave it without
    // one. A command nobody can watch is ended.
    ::syscall(SYS_pidfd_send_signal, leader->pidfd(), SIGKILL, nullptr, 0);
    ReplyError(w.control, id, sent.error());
  }
  master.reset();
  // The next command's leader is prepared while this one runs.
  w.leaders->Refill();
}

// The broker keeps a prepared leader of its own and sends a pipes-mode command straight to it,
// so a command is one hop from the broker instead of two. This hands it the waiting leader (or
// a new one): the socket the command goes over and the leader's pidfd. No new one is prepared
// here - the broker asks again once it has used this one.
void HandleLeader(WorkerState& w, IpcMessage& msg) {
  auto id = msg.body.value("id", nlohmann::json());
  auto leader = w.leaders->Take();
  if (!leader) return ReplyError(w.control, id, leader.error());
  UniqueFd socket = leader->TakeSocket();
  if (Status sent = SendIpc(w.control, {{"t", "leader"}, {"id", id}, {"pid", leader->pid()}}, {socket.get(), leader->pidfd()});
      !sent) {
    ::syscall(SYS_pidfd_send_signal, leader->pidfd(), SIGKILL, nullptr, 0);
    ReplyError(w.control, id, sent.error());
  }
}

std::atomic<bool> g_op_cancelled{false};
void OnCancelSignal(int) { g_op_cancelled.store(true); }

// The op's arguments from the broker's memfd (read in the confined child); a discarded value
// if unreadable, which the op's binding then refuses as invalid params.
nlohmann::json ReadArgs(int fd) {
  std::string text;
  char buf[65536];
  for (off_t off = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof(buf), off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return nlohmann::json::parse(text, nullptr, false);
}

void HandleOperation(WorkerState& w, IpcMessage& msg) {
  auto id = msg.body.value("id", nlohmann::json());
  const bool args_in_fd = msg.body.value("argsFd", false);
  if (msg.fds.size() != (args_in_fd ? 2u : 1u))
    return ReplyError(w.control, id, MakeError(ErrorKind::kInternal, "op: reply or argument fd missing"));
  pid_t pid = ::fork();
  if (pid < 0) return ReplyError(w.control, id, ErrnoError(ErrorKind::kLimitExceeded, "start operation", errno));
  if (pid == 0) {
    ::close(w.control);
    struct sigaction sa {};
    sa.sa_handler = OnCancelSignal;
    ::sigaction(SIGUSR1, &sa, nullptr);
    ::signal(SIGCHLD, SIG_DFL);
    nlohmann::json out;
    if (Status s = DropAllCapabilities(); !s) {
      out = {{"error", {{"kind", "sandbox_failed"}, {"detail", s.error().detail}}}};
    } else if (Status f = LoadSeccomp(w.init.command_filter); !f) {
      out = {{"error", {{"kind", "sandbox_failed"}, {"detail", f.error().detail}}}};
    } else {
      nlohmann::json args = args_in_fd ? ReadArgs(msg.fds[1].get()) : msg.body.value("args", nlohmann::json::object());
      out = RunWorkerOperation(msg.body.value("op", ""), args, *w.policy, &g_op_cancelled);
    }
    // MessagePack, not JSON text: a file's content is copied as length-prefixed bytes instead of
    // being escaped here and unescaped by the broker (most of a large read's cost).
    std::vector<uint8_t> text = nlohmann::json::to_msgpack(out);
    size_t off = 0;
    while (off < text.size()) {
      ssize_t n = ::write(msg.fds[0].get(), text.data() + off, text.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::_exit(0);
  }
  // SIGCHLD is ignored, so a child that already finished has been reaped and pidfd_open fails;
  // it must still be answered (without a pidfd: there is nothing left to cancel), or the
  // broker waits for "started" forever with the control channel locked.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  std::vector<int> fds;
  if (pidfd) fds.push_back(pidfd.get());
  if (Status sent = SendIpc(w.control, {{"t", "started"}, {"id", id}, {"pid", pid}}, fds); !sent) {
    ::kill(pid, SIGKILL);  // its result pipe then ends without a result, which the broker reports
    ReplyError(w.control, id, sent.error());
  }
}

}  // namespace

int RunWorker(int control_fd) {
  WorkerState w;
  w.control = control_fd;
  auto first = ReceiveIpc(control_fd);
  if (!first || first->body.value("t", "") != "init") return 2;
  auto init = WorkerInitFromJson(first->body);
  if (!init) {
    ReplyError(control_fd, nullptr, init.error());
    return 2;
  }
  w.init = std::move(*init);
  if (Status s = Confine(w); !s) {
    ReplyError(control_fd, nullptr, s.error());
    return 2;
  }
  (void)SendIpc(control_fd, {{"t", "ready"}, {"pid", ::getpid()}});
  w.leaders->Refill();
  for (;;) {
    auto msg = ReceiveIpc(control_fd);
    if (!msg) return 0;  // broker gone: exiting kills the namespace
    std::string type = msg->body.value("t", "");
    if (type == "spawn") HandleSpawn(w, *msg);
    else if (type == "leader") HandleLeader(w, *msg);
    else if (type == "op") HandleOperation(w, *msg);
    else if (type == "exit") return 0;
    else ReplyError(control_fd, msg->body.value("id", nlohmann::json()), MakeError(ErrorKind::kInternal, "unknown worker request " + type));
  }
}

}  // namespace cordon::linux_sandbox
