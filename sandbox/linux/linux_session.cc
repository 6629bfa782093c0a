#include "sandbox/linux/linux_session.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/linux/ipc.h"
#include "sandbox/linux/leader_pool.h"
#include "sandbox/linux/linux_process.h"

namespace cordon::linux_sandbox {
namespace {

constexpr int kReadyTimeoutMs = 15000;
// How long a request may go unanswered by a live worker before the session is declared lost.
// Generous: the worker only starts things and answers; it never waits for a command.
constexpr int kReplyTimeoutMs = 120000;
constexpr int kReplyPollMs = 1000;

Status MakePipe(UniqueFd* r, UniqueFd* w) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return ErrnoError(ErrorKind::kLimitExceeded, "pipe", errno);
  r->reset(p[0]);
  w->reset(p[1]);
  return OkStatus();
}

Error WorkerError(const nlohmann::json& body) {
  std::string kind = body.value("kind", "sandbox_failed");
  ErrorKind k = ErrorKind::kSandboxFailed;
  for (ErrorKind candidate : {ErrorKind::kInvalidArgument, ErrorKind::kPolicyDenied, ErrorKind::kNotFound,
                              ErrorKind::kConflict, ErrorKind::kLimitExceeded, ErrorKind::kUnsupported,
                              ErrorKind::kSandboxFailed, ErrorKind::kCancelled, ErrorKind::kInternal})
    if (kind == ErrorKindName(candidate)) k = candidate;
  return MakeError(k, body.value("detail", "worker error"));
}

}  // namespace

Result<std::shared_ptr<LinuxSession>> LinuxSession::Start(const Policy& policy, const WorkerInit& init,
                                                          const LaunchSpec& spec, std::shared_ptr<CgroupJob> job,
                                                          EnforcementReport report) {
  std::shared_ptr<LinuxSession> s(new LinuxSession(policy, std::move(report)));
  s->job_ = std::move(job);
  auto launched = LaunchWorker(spec);
  if (!launched) return launched.error();
  s->worker_ = std::move(*launched);
  s->alive_.store(true);
  if (Status st = SendIpc(s->worker_.control.get(), ToJson(init)); !st) {
    s->Close();
    return st.error();
  }
  pollfd p{s->worker_.control.get(), POLLIN, 0};
  if (::poll(&p, 1, kReadyTimeoutMs) <= 0) {
    s->Close();
    return MakeError(ErrorKind::kSandboxFailed, "the sandbox worker did not become ready");
  }
  auto ready = ReceiveIpc(s->worker_.control.get());
  if (!ready) {
    s->Close();
    return MakeError(ErrorKind::kSandboxFailed, "the sandbox worker failed before it was ready: " + ready.error().detail);
  }
  if (ready->body.value("t", "") != "ready") {
    Error e = WorkerError(ready->body);
    s->Close();
    return MakeError(ErrorKind::kSandboxFailed, "building the sandbox failed: " + e.detail);
  }
  // The first command's leader is fetched while the session waits for it.
  std::lock_guard<std::mutex> lock(s->control_mu_);
  s->RequestLeaderLocked();
  return s;
}

LinuxSession::~LinuxSession() { Close(); }

Result<IpcMessage> LinuxSession::RoundTrip(const nlohmann::json& body, const std::vector<int>& fds) {
  std::lock_guard<std::mutex> lock(control_mu_);
  return RoundTripLocked(body, fds);
}

Result<IpcMessage> LinuxSession::RoundTripLocked(const nlohmann::json& body, const std::vector<int>& fds) {
  if (Status s = CollectLeaderLocked(); !s) return s.error();
  if (!alive_.load()) return MakeError(ErrorKind::kSandboxFailed, "the session's sandbox is gone");
  if (Status s = SendIpc(worker_.control.get(), body, fds); !s) {
    alive_.store(false);
    return MakeError(ErrorKind::kSandboxFailed, "the session's worker died; the session is lost");
  }
  auto reply = ReceiveAnswerLocked(body.value("id", nlohmann::json()));
  if (!reply) return reply.error();
  if (reply->body.value("t", "") == "error") return WorkerError(reply->body);
  return reply;
}

Result<IpcMessage> LinuxSession::ReceiveAnswerLocked(const nlohmann::json& id) {
  // The worker answers every request at once (output, exit status and operation results flow
  // over per-request pipes), so a missing answer means a broken worker: the session is lost
  // instead of this thread - and every later request behind control_mu_ - waiting forever.
  if (!AwaitReply()) {
    alive_.store(false);
    if (worker_.pidfd) ::syscall(SYS_pidfd_send_signal, worker_.pidfd.get(), SIGKILL, nullptr, 0);
    return MakeError(ErrorKind::kSandboxFailed, "the session's worker stopped answering; the session is lost");
  }
  auto reply = ReceiveIpc(worker_.control.get());
  if (!reply) {
    alive_.store(false);
    return MakeError(ErrorKind::kSandboxFailed, "the session's worker died; the session is lost");
  }
  if (reply->body.value("id", nlohmann::json()) != id) {
    alive_.store(false);  // an answer to another request: the channel is out of step
    return MakeError(ErrorKind::kSandboxFailed, "the session's worker answered out of turn; the session is lost");
  }
  return reply;
}

void LinuxSession::RequestLeaderLocked() {
  if (standby_ || leader_request_ || !alive_.load()) return;
  uint64_t id = next_id_.fetch_add(1);
  if (Status s = SendIpc(worker_.control.get(), {{"t", "leader"}, {"id", id}}); !s) {
    alive_.store(false);
    return;
  }
  leader_request_ = id;
}

Status LinuxSession::CollectLeaderLocked() {
  if (!leader_request_) return OkStatus();
  uint64_t id = *leader_request_;
  leader_request_.reset();
  if (!alive_.load()) return MakeError(ErrorKind::kSandboxFailed, "the session's sandbox is gone");
  auto reply = ReceiveAnswerLocked(nlohmann::json(id));
  if (!reply) return reply.error();
  // A refusal (e.g. the session's process limit) leaves no leader in hand: the next command
  // goes through the worker, which reports the failure.
  if (reply->body.value("t", "") == "leader" && reply->fds.size() == 2)
    standby_.emplace(HeldLeader{reply->body.value("pid", 0), std::move(reply->fds[0]), std::move(reply->fds[1])});
  return OkStatus();
}

bool LinuxSession::AwaitReply() {
  for (int waited = 0; waited < kReplyTimeoutMs;) {
    pollfd p[2] = {{worker_.control.get(), POLLIN, 0}, {worker_.pidfd.get(), POLLIN, 0}};
    int r = ::poll(p, worker_.pidfd ? 2 : 1, kReplyPollMs);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return false;
    if (p[0].revents) return true;  // the answer, or EOF that ReceiveIpc reports
    if (r > 0 && p[1].revents) return false;  // the worker exited without answering
    waited += kReplyPollMs;
  }
  return false;
}

std::optional<Result<std::unique_ptr<SandboxProcess>>> LinuxSession::SpawnOnStandbyLocked(const SpawnRequest& req,
                                                                                          ProcessFds& mine,
                                                                                          const std::vector<int>& fds) {
  if (!standby_) return std::nullopt;
  HeldLeader leader = std::move(*standby_);
  standby_.reset();
  LeaderSpec spec;
  spec.argv = req.argv;
  spec.env = req.env;
  spec.cwd = req.cwd;
  spec.timeout_ms = req.timeout_ms;
  spec.grace_ms = req.grace_ms;
  spec.status_fd = fds[0];
  spec.stdout_fd = fds[1];
  spec.stderr_fd = fds[2];
  if (fds.size() > 3) spec.stdin_fd = fds[3];
  int err = SendCommandToLeader(leader.socket.get(), spec);
  if (err == EPIPE || err == ECONNRESET) return std::nullopt;  // it died waiting: the worker starts one
  if (err != 0) {
    ::syscall(SYS_pidfd_send_signal, leader.pidfd.get(), SIGKILL, nullptr, 0);
    return Result<std::unique_ptr<SandboxProcess>>(
        ErrnoError(ErrorKind::kLimitExceeded, "start process: hand over the command", err));
  }
  mine.leader = std::move(leader.pidfd);
  return Result<std::unique_ptr<SandboxProcess>>(std::unique_ptr<SandboxProcess>(
      new LinuxProcess(leader.pid, false, req.grace_ms, std::move(mine), job_)));
}

Result<std::unique_ptr<SandboxProcess>> LinuxSession::Spawn(const SpawnRequest& req) {
  ProcessFds mine;
  UniqueFd status_w, out_w, err_w, in_r;
  if (Status s = MakePipe(&mine.status, &status_w); !s) return s.error();
  std::vector<int> fds = {status_w.get()};
  if (!req.tty) {
    if (Status s = MakePipe(&mine.out, &out_w); !s) return s.error();
    if (Status s = MakePipe(&mine.err, &err_w); !s) return s.error();
    fds.push_back(out_w.get());
    fds.push_back(err_w.get());
    if (req.stdin_pipe) {
      if (Status s = MakePipe(&in_r, &mine.in); !s) return s.error();
      fds.push_back(in_r.get());
    }
  }
  std::lock_guard<std::mutex> lock(control_mu_);
  // Whatever path this command takes, the next command's leader is asked for once it has
  // started (the worker prepares it while this command runs).
  struct AskForNext {
    LinuxSession* s;
    ~AskForNext() { s->RequestLeaderLocked(); }
  } ask_for_next{this};
  if (!req.tty) {
    if (Status s = CollectLeaderLocked(); !s) return s.error();
    if (!alive_.load()) return MakeError(ErrorKind::kSandboxFailed, "the session's sandbox is gone");
    if (auto started = SpawnOnStandbyLocked(req, mine, fds)) return std::move(*started);
  }
  nlohmann::json body = {{"t", "spawn"}, {"id", next_id_.fetch_add(1)}, {"argv", req.argv}, {"env", req.env},
                         {"cwd", req.cwd}, {"tty", req.tty}, {"cols", req.cols}, {"rows", req.rows},
                         {"stdin", req.stdin_pipe}, {"timeoutMs", req.timeout_ms}, {"graceMs", req.grace_ms}};
  auto reply = RoundTripLocked(body, fds);
  if (!reply) return reply.error();
  if (reply->body.value("t", "") != "spawned" || reply->fds.empty())
    return MakeError(ErrorKind::kSandboxFailed, "unexpected worker reply to spawn");
  mine.leader = std::move(reply->fds[0]);
  if (req.tty) {
    if (reply->fds.size() < 2) return MakeError(ErrorKind::kSandboxFailed, "worker sent no terminal");
    mine.out = std::move(reply->fds[1]);
    mine.in.reset(::fcntl(mine.out.get(), F_DUPFD_CLOEXEC, 0));
  }
  int pid = reply->body.value("pid", 0);
  return std::unique_ptr<SandboxProcess>(new LinuxProcess(pid, req.tty, req.grace_ms, std::move(mine), job_));
}

Result<nlohmann::json> LinuxSession::RunOperation(const std::string& op, const nlohmann::json& request,
                                                  const std::atomic<bool>* cancel) {
  UniqueFd result_r, result_w;
  if (Status s = MakePipe(&result_r, &result_w); !s) return s.error();
  (void)::fcntl(result_w.get(), F_SETPIPE_SZ, 1 << 20);  // fewer wakeups for a large read; best effort
  // Arguments travel in a sealed memfd: a patch or a file's content easily exceeds what one
  // SOCK_SEQPACKET datagram can carry (the socket's send buffer), and the confined child, not
  // the worker, parses them.
  std::string args = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  UniqueFd args_fd(static_cast<int>(::syscall(SYS_memfd_create, "cordon-op-args", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!args_fd) return ErrnoError(ErrorKind::kLimitExceeded, "memfd for operation arguments", errno);
  for (size_t off = 0; off < args.size();) {
    ssize_t n = ::write(args_fd.get(), args.data() + off, args.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError(ErrorKind::kLimitExceeded, "writing operation arguments", errno);
    off += static_cast<size_t>(n);
  }
  (void)::fcntl(args_fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
  auto reply = RoundTrip({{"t", "op"}, {"id", next_id_.fetch_add(1)}, {"op", op}, {"argsFd", true}},
                         {result_w.get(), args_fd.get()});
  if (!reply) return reply.error();
  result_w.reset();
  UniqueFd pidfd = reply->fds.empty() ? UniqueFd() : std::move(reply->fds[0]);
  std::string text;
  char buf[65536];
  bool cancel_sent = false;
  for (;;) {
    pollfd p{result_r.get(), POLLIN, 0};
    int r = ::poll(&p, 1, cancel ? 50 : -1);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0) {
      if (cancel && cancel->load() && !cancel_sent && pidfd) {
        ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGUSR1, nullptr, 0);
        cancel_sent = true;
      }
      continue;
    }
    ssize_t n = ::read(result_r.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  // The child answers in MessagePack (worker_loop.cc); a truncated or empty reply is discarded.
  auto j = nlohmann::json::from_msgpack(text, true, false);
  if (!j.is_object()) {
    if (!alive_.load()) return MakeError(ErrorKind::kSandboxFailed, "the session's worker died; the session is lost");
    return MakeError(ErrorKind::kInternal, "the operation ended without a result");
  }
  if (j.contains("error")) return WorkerError(j["error"]);
  return j.value("ok", nlohmann::json::object());
}

void LinuxSession::Close() {
  if (closed_.exchange(true)) return;
  alive_.store(false);
  if (worker_.pidfd) ::syscall(SYS_pidfd_send_signal, worker_.pidfd.get(), SIGKILL, nullptr, 0);
  else if (worker_.pid > 0) ::kill(worker_.pid, SIGKILL);
  if (worker_.pid > 0) {
    int st;
    while (::waitpid(worker_.pid, &st, 0) < 0 && errno == EINTR) {}
  }
  if (job_) (void)job_->KillAll();
  worker_.control.reset();
}

}  // namespace cordon::linux_sandbox
