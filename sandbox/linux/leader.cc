#include "sandbox/linux/leader.h"

#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/linux/capabilities.h"
#include "sandbox/linux/rlimits.h"
#include "sandbox/linux/seccomp_policy.h"

namespace cordon::linux_sandbox {
namespace {

uint64_t NowMs() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

void ResetSignals() {
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s) ::sigaction(s, &sa, nullptr);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

sigset_t LeaderSignals() {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT, kLeaderSignal}) sigaddset(&set, s);
  return set;
}

// Room for execvpe's PATH buffer and its script fallback, which copies argv onto the stack.
constexpr size_t kCommandStackBytes = 8u << 20;

struct CommandStart {
  const LeaderSpec* spec;
  char* const* argv;
  char* const* envp;
  int dev_null;  // opened by PrepareLeader
  int dev_null_errno;
  char error[1024];  // written by the command side when it fails before exec
};

// Records why the command could not start and ends the command's side. Exits through the raw
// syscall, not _exit: nothing marked noreturn may run on this borrowed stack (sanitizer
// runtimes act on noreturn calls and would report the foreign stack into the command's stderr).
int Fail(CommandStart* c, const char* what, const char* subject) {
  int err = errno;
  char buf[256];
  const char* text = ::strerror_r(err, buf, sizeof(buf));
  std::snprintf(c->error, sizeof(c->error), "%s%s: %s", what, subject, text);
  ::syscall(SYS_exit, 127);
  return 127;
}

// The command's side of clone(CLONE_VM | CLONE_VFORK): it shares the leader's memory (the
// leader is suspended until exec), so it only makes syscalls and writes its failure into
// `error`; it has its own fd table and a copy of the leader's default signal dispositions.
int StartCommand(void* arg) {
  auto* c = static_cast<CommandStart*>(arg);
  const LeaderSpec& spec = *c->spec;
  if (::setsid() < 0) return Fail(c, "setsid", "");
  if (spec.tty) {
    int slave = ::open(spec.pty_slave.c_str(), O_RDWR);
    if (slave < 0) return Fail(c, "open terminal", "");
    if (::ioctl(slave, TIOCSCTTY, 0) < 0) return Fail(c, "set controlling terminal", "");
    for (int fd = 0; fd < 3; ++fd)
      if (::dup2(slave, fd) < 0) return Fail(c, "dup2", "");
    if (slave > 2) ::close(slave);
  } else {
    int in = spec.stdin_fd >= 0 ? spec.stdin_fd : c->dev_null;
    if (in < 0) {
      errno = c->dev_null_errno;
      return Fail(c, "open /dev/null", "");
    }
    if (::dup2(in, 0) < 0 || ::dup2(spec.stdout_fd, 1) < 0 || ::dup2(spec.stderr_fd, 2) < 0) return Fail(c, "dup2", "");
  }
  // Only the command's own stdio survives exec.
  ::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  if (::chdir(spec.cwd.c_str()) != 0) return Fail(c, "cannot enter working directory ", spec.cwd.c_str());
  // The leader's dispositions are already the defaults; only its blocked signals must not
  // reach the command.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::execvpe(c->argv[0], c->argv, c->envp);
  return Fail(c, "cannot run ", spec.argv[0].c_str());
}

}  // namespace

PreparedLeader PrepareLeader(const LeaderSetup& setup) {
  PreparedLeader out;
  // The worker ignores SIGCHLD (the kernel reaps for it); the leader must see its children.
  ResetSignals();
  sigset_t wait_set = LeaderSignals();
  ::sigprocmask(SIG_SETMASK, &wait_set, nullptr);
  ::prctl(PR_SET_NAME, "cordon-leader");
  auto fail = [&](std::string what) {
    if (out.error.empty()) out.error = std::move(what);
  };
  // A command without a stdin pipe reads /dev/null.
  out.dev_null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (out.dev_null < 0) out.dev_null_errno = errno;
  // The command's stack, with a guard page below it.
  void* stack = ::mmap(nullptr, kCommandStackBytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    fail(std::string("command stack: ") + std::strerror(errno));
  } else {
    ::mprotect(stack, 4096, PROT_NONE);
    out.stack_top = static_cast<char*>(stack) + kCommandStackBytes;
  }
  if (Status s = DropAllCapabilities(); !s) fail("drop capabilities: " + s.error().detail);
  // The command filter goes last: after it, not even the leader may create namespaces.
  if (setup.command_filter) {
    if (Status s = LoadSeccomp(*setup.command_filter); !s) fail("seccomp: " + s.error().detail);
  } else {
    fail("seccomp: no command filter");
  }
  return out;
}

void LimitLeader(const LeaderSetup& setup, PreparedLeader* prepared) {
  if (Status s = ApplyCommandRlimits(setup.limits, setup.cgroup_enforces_limits); !s && prepared->error.empty())
    prepared->error = "rlimits: " + s.error().detail;
}

[[noreturn]] void RunLeader(const LeaderSpec& spec, const PreparedLeader& prepared) {
  uint64_t start = NowMs();
  sigset_t wait_set = LeaderSignals();
  auto report_error = [&](const std::string& detail) {
    nlohmann::json r = {{"status", "error"}, {"exitCode", 127}, {"detail", detail}, {"wallMs", NowMs() - start}};
    WriteAll(spec.status_fd, r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    ::_exit(0);
  };
  if (!prepared.error.empty()) report_error(prepared.error);

  std::vector<char*> argv, envp;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  if (argv.size() < 2) report_error("no command");
  CommandStart cmd{&spec, argv.data(), envp.data(), prepared.dev_null, prepared.dev_null_errno, {}};
  pid_t child = ::clone(StartCommand, prepared.stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, &cmd);
  if (child < 0) report_error(std::string("fork: ") + std::strerror(errno));
  for (int fd : {spec.stdin_fd, spec.stdout_fd, spec.stderr_fd})
    if (fd >= 0) ::close(fd);
  std::string exec_error = cmd.error;

  std::string status_override = exec_error.empty() ? "" : "error";
  uint64_t timeout_at = spec.timeout_ms ? start + spec.timeout_ms : 0;
  uint64_t kill_at = 0;
  int main_status = 0;
  bool main_done = false;
  bool namespace_empty = false;

  auto end_tree = [&](const char* why) {
    if (status_override.empty()) status_override = why;
    ::kill(-1, SIGTERM);
    ::kill(-1, SIGCONT);
    if (!kill_at) kill_at = NowMs() + spec.grace_ms;
  };

  while (!main_done) {
    uint64_t now = NowMs();
    uint64_t deadline = 0;
    if (timeout_at && !kill_at) deadline = timeout_at;
    if (kill_at) deadline = kill_at;
    if (deadline && now >= deadline) {
      if (kill_at) {
        ::kill(-1, SIGKILL);
        kill_at = now + 60000;  // keep waiting for the reap
      } else {
        end_tree("timeout");
      }
      continue;
    }
    siginfo_t info{};
    int sig;
    if (deadline) {
      uint64_t wait = deadline - now;
      timespec ts{static_cast<time_t>(wait / 1000), static_cast<long>((wait % 1000) * 1000000)};
      sig = ::sigtimedwait(&wait_set, &info, &ts);
    } else {
      sig = ::sigwaitinfo(&wait_set, &info);
    }
    if (sig < 0) continue;
    if (sig == SIGCHLD) {
      int st;
      pid_t p;
      while ((p = ::waitpid(-1, &st, WNOHANG)) > 0) {
        if (p == child) {
          main_status = st;
          main_done = true;
        }
      }
      namespace_empty = p < 0 && errno == ECHILD;
    } else if (sig == kLeaderSignal) {
      int what = info.si_value.sival_int;
      if (what == kEndTree) end_tree("killed");
      else if (what == kEndTreeTimeout) end_tree("timeout");
      else if (what > 0 && what < 64) {
        if (::kill(-child, what) != 0) ::kill(child, what);
      }
    } else {
      // SIGTERM/SIGINT/SIGHUP/SIGQUIT sent to the leader itself: the worker is going away.
      end_tree("killed");
    }
  }
  // The command is done: nothing it started may outlive it. With no child left the namespace
  // is empty - every orphan in it is reparented to the leader - and kill(-1), which walks
  // every process on the host, is skipped.
  if (!namespace_empty) {
    ::kill(-1, SIGKILL);
    while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {}
  }

  rusage ru{};
  ::getrusage(RUSAGE_CHILDREN, &ru);
  // The line is put together by hand: it runs on every command's exit path, and only an exec
  // failure's detail (free text, possibly not UTF-8) needs the JSON library's escaping.
  std::string status = status_override;
  std::string line = "{";
  if (WIFEXITED(main_status)) {
    if (status.empty()) status = "exited";
    line += "\"exitCode\":" + std::to_string(WEXITSTATUS(main_status)) + ",";
  } else if (WIFSIGNALED(main_status)) {
    if (status.empty()) status = "signaled";
    line += "\"signal\":" + std::to_string(WTERMSIG(main_status)) + ",";
  }
  if (!status.empty()) line += "\"status\":\"" + status + "\",";
  if (!exec_error.empty())
    line += "\"detail\":" + nlohmann::json(exec_error).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + ",";
  uint64_t cpu_ms = (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
  line += "\"wallMs\":" + std::to_string(NowMs() - start) + ",\"cpuMs\":" + std::to_string(cpu_ms) +
          ",\"maxRssKb\":" + std::to_string(ru.ru_maxrss) + "}\n";
  WriteAll(spec.status_fd, line);
  ::_exit(0);
}

}  // namespace cordon::linux_sandbox
