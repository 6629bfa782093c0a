#include "sandbox/linux/linux_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <system_error>
#include <thread>

#include <nlohmann/json.hpp>

#include "sandbox/linux/leader.h"

namespace cordon::linux_sandbox {
namespace {

constexpr int kOutputPipeBytes = 1 << 20;

int PidfdSend(int pidfd, int sig, siginfo_t* info) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, info, 0));
}

}  // namespace

LinuxProcess::LinuxProcess(int pid, bool tty, uint32_t grace_ms, ProcessFds fds, std::shared_ptr<CgroupJob> job)
    : pid_(pid), tty_(tty), grace_ms_(grace_ms), fds_(std::move(fds)), job_(std::move(job)) {
  if (job_) oom_before_ = job_->OomKillCount();
  if (tty_) err_open_ = false;
  // Larger output pipes: fewer wakeups per megabyte when a command streams (best effort; the
  // kernel caps it at /proc/sys/fs/pipe-max-size for unprivileged owners).
  if (!tty_) {
    for (const UniqueFd* fd : {&fds_.out, &fds_.err})
      if (*fd) (void)::fcntl(fd->get(), F_SETPIPE_SZ, kOutputPipeBytes);
  }
}

LinuxProcess::~LinuxProcess() {
  if (!exited_.load() && fds_.leader) PidfdSend(fds_.leader.get(), SIGKILL, nullptr);
}

Result<OutputChunk> LinuxProcess::ReadOutput(size_t max_bytes) {
  std::string buf(max_bytes, '\0');
  for (;;) {
    if (!out_open_ && !err_open_) return OutputChunk{OutputStream::kStdout, "", true};
    pollfd p[2];
    int n = 0;
    int idx_out = -1, idx_err = -1;
    if (out_open_) {
      p[n] = {fds_.out.get(), POLLIN, 0};
      idx_out = n++;
    }
    if (err_open_) {
      p[n] = {fds_.err.get(), POLLIN, 0};
      idx_err = n++;
    }
    int r = ::poll(p, n, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(ErrorKind::kInternal, "poll", errno);
    }
    for (int i = 0; i < n; ++i) {
      if (!p[i].revents) continue;
      bool is_out = i == idx_out;
      int fd = is_out ? fds_.out.get() : fds_.err.get();
      ssize_t got = ::read(fd, buf.data(), buf.size());
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got <= 0) {  // EOF, or EIO once the last pty slave closed
        (is_out ? out_open_ : err_open_) = false;
        continue;
      }
      buf.resize(static_cast<size_t>(got));
      OutputStream stream = tty_ ? OutputStream::kPty : is_out ? OutputStream::kStdout : OutputStream::kStderr;
      return OutputChunk{stream, std::move(buf), false};
    }
    (void)idx_err;
  }
}

ProcessResult LinuxProcess::Wait() {
  std::lock_guard<std::mutex> lock(wait_mu_);
  if (result_) return *result_;
  std::string text;
  char buf[1024];
  for (;;) {
    ssize_t n = ::read(fds_.status.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    // The leader writes its one line only after it has killed and reaped the whole tree, so
    // the result is final here; waiting for EOF would add the leader's own exit.
    if (text.find('\n') != std::string::npos) break;
  }
  ProcessResult r;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_object()) {
    r.status = j.value("status", "exited");
    if (j.contains("exitCode") && j["exitCode"].is_number()) r.exit_code = j["exitCode"].get<int>();
    if (j.contains("signal") && j["signal"].is_number()) r.signal = j["signal"].get<int>();
    r.wall_ms = j.value("wallMs", 0ull);
    r.cpu_ms = j.value("cpuMs", 0ull);
    r.max_rss_kb = j.value("maxRssKb", 0ull);
    r.detail = j.value("detail", "");
  } else {
    // The leader never reported: it was killed with its namespace (session closed or lost).
    r.status = "killed";
    r.signal = SIGKILL;
    r.detail = "the process tree was killed with its session";
  }
  int reason = kill_reason_.load();
  if (r.status == "killed" && reason == static_cast<int>(KillReason::kTimeout)) r.status = "timeout";
  if (job_ && (r.signal == SIGKILL || r.status == "killed") && job_->OomKillCount() > oom_before_) {
    r.status = "oom";
    r.detail = "killed by the session's memory limit";
  }
  exited_.store(true);
  result_ = r;
  return r;
}

Status LinuxProcess::WriteStdin(std::string_view data) {
  std::lock_guard<std::mutex> lock(in_mu_);
  if (!fds_.in) return MakeError(ErrorKind::kInvalidArgument, "the process has no stdin pipe (start it with stdin \"pipe\")");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fds_.in.get(), data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (errno == EPIPE || errno == EIO) return MakeError(ErrorKind::kConflict, "the process closed its input");
      return ErrnoError(ErrorKind::kInternal, "write stdin", errno);
    }
    off += static_cast<size_t>(n);
  }
  return OkStatus();
}

Status LinuxProcess::CloseStdin() {
  std::lock_guard<std::mutex> lock(in_mu_);
  if (tty_) {
    // A terminal has no half-close: send the EOF character, as typing Ctrl-D would.
    if (fds_.in) (void)!::write(fds_.in.get(), "\x04", 1);
    return OkStatus();
  }
  fds_.in.reset();
  return OkStatus();
}

Status LinuxProcess::Resize(uint16_t cols, uint16_t rows) {
  if (!tty_) return MakeError(ErrorKind::kInvalidArgument, "the process has no terminal (start it with tty: true)");
  winsize ws{};
  ws.ws_col = cols;
  ws.ws_row = rows;
  if (::ioctl(fds_.out.get(), TIOCSWINSZ, &ws) != 0) return ErrnoError(ErrorKind::kInternal, "resize", errno);
  return OkStatus();
}

Status LinuxProcess::SendToLeader(int value) {
  siginfo_t info;
  std::memset(&info, 0, sizeof(info));
  info.si_signo = kLeaderSignal;
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = value;
  if (PidfdSend(fds_.leader.get(), kLeaderSignal, &info) != 0) {
    if (errno == ESRCH) return OkStatus();  // already gone
    return ErrnoError(ErrorKind::kInternal, "signal process", errno);
  }
  return OkStatus();
}

Status LinuxProcess::Signal(int signal) {
  if (exited_.load()) return OkStatus();
  if (tty_ && (signal == SIGINT || signal == SIGQUIT)) {
    // In a terminal, Ctrl+C belongs to the foreground job (which a job-control shell puts in
    // its own process group), not to the group the command started in: type the character
    // and let the line discipline signal whoever is in the foreground, as a real terminal does.
    termios t{};
    if (::tcgetattr(fds_.out.get(), &t) == 0 && (t.c_lflag & ISIG)) {
      char c = static_cast<char>(t.c_cc[signal == SIGINT ? VINTR : VQUIT]);
      std::lock_guard<std::mutex> lock(in_mu_);
      if (fds_.in && ::write(fds_.in.get(), &c, 1) == 1) return OkStatus();
    }
  }
  return SendToLeader(signal);
}

Status LinuxProcess::Kill(KillReason reason) {
  if (exited_.load()) return OkStatus();
  int expected = -1;
  kill_reason_.compare_exchange_strong(expected, static_cast<int>(reason));
  Status s = SendToLeader(reason == KillReason::kTimeout ? kEndTreeTimeout : kEndTree);
  if (!kill_sent_.exchange(true)) {
    // Backstop: if the leader has not finished after the grace period, kill its namespace.
    int dup = ::fcntl(fds_.leader.get(), F_DUPFD_CLOEXEC, 0);
    uint32_t wait_ms = grace_ms_ + 1000;
    if (dup >= 0) {
      try {
        std::thread([dup, wait_ms] {
          UniqueFd fd(dup);
          pollfd p{fd.get(), POLLIN, 0};  // a pidfd is readable once the process exits
          if (::poll(&p, 1, static_cast<int>(wait_ms)) == 0) PidfdSend(fd.get(), SIGKILL, nullptr);
        }).detach();
      } catch (const std::system_error&) {
        // No thread for the backstop (a thread limit): end the namespace now instead.
        UniqueFd fd(dup);
        PidfdSend(fd.get(), SIGKILL, nullptr);
      }
    }
  }
  return s;
}

}  // namespace cordon::linux_sandbox
