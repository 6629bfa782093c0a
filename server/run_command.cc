// `cordon run -- CMD ARGS`: one sandboxed command with the terminal or pipes passed through,
// like `bwrap` or `codex sandbox`. The exit status is passed through; when the sandbox ended
// the command (timeout, memory, output), one line on stderr says why.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "server/commands.h"

extern char** environ;

namespace cordon::server {
namespace {

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

// Raw mode for the caller's terminal while a pty command runs; restored on scope exit.
class RawTerminal {
 public:
  RawTerminal() {
    if (::tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    active_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

}  // namespace

int RunCommand(ServerContext& context, const RunOptions& options) {
  if (options.argv.empty()) {
    std::fprintf(stderr, "cordon run: give a command after --, e.g. cordon run -- sh -c 'echo hi'\n");
    return 2;
  }
  Config config = context.config;
  if (options.network == "full") config.network_access = true;
  else if (options.network == "none") config.network_access = false;
  else if (!options.network.empty()) {
    std::fprintf(stderr, "cordon run: --network must be none or full\n");
    return 2;
  }
  auto policy = BuildPolicy(config, context.workspace_roots, context.home);
  if (!policy) {
    std::fprintf(stderr, "cordon run: %s\n", policy.error().detail.c_str());
    return 2;
  }
  auto session = context.sessions->CreateSession(*policy);
  if (!session) {
    std::fprintf(stderr, "cordon run: %s: %s\n", ErrorKindName(session.error().kind), session.error().detail.c_str());
    return 125;
  }
  bool tty = ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
  SpawnRequest req;
  req.argv = options.argv;
  char cwd[4096];
  std::string here = ::getcwd(cwd, sizeof(cwd)) ? cwd : policy->workspace_roots().front();
  req.cwd = here;
  req.env = BuildEnvironment(policy->env(), environ, {});
  req.tty = tty;
  req.stdin_pipe = true;
  req.timeout_ms = policy->limits().wall_timeout_ms;
  if (tty) {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col) {
      req.cols = ws.ws_col;
      req.rows = ws.ws_row;
    }
  }
  auto proc = (*session)->Spawn(req);
  if (!proc) {
    std::fprintf(stderr, "cordon run: %s\n", proc.error().detail.c_str());
    (*session)->Close();
    return 125;
  }
  SandboxProcess& p = **proc;
  std::unique_ptr<RawTerminal> raw;
  if (tty) raw = std::make_unique<RawTerminal>();

  // Caller's stdin -> the command. Stops at EOF; the thread is detached because a read on a
  // terminal cannot be interrupted portably, and the process exits right after.
  std::thread([&p] {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(STDIN_FILENO, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      if (!p.WriteStdin(std::string_view(buf, static_cast<size_t>(n)))) break;
    }
    (void)p.CloseStdin();
  }).detach();

  uint64_t written = 0;
  uint64_t cap = policy->limits().max_output_bytes;
  bool over = false;
  for (;;) {
    auto chunk = p.ReadOutput(65536);
    if (!chunk || chunk->eof) break;
    if (over) continue;
    written += chunk->data.size();
    if (cap && written > cap) {
      over = true;
      (void)p.Kill(KillReason::kOutputLimit);
      continue;
    }
    WriteAll(chunk->stream == OutputStream::kStderr ? STDERR_FILENO : STDOUT_FILENO, chunk->data);
  }
  ProcessResult r = p.Wait();
  raw.reset();
  (*session)->Close();
  if (over) {
    std::fprintf(stderr, "cordon: output exceeded %llu bytes; the command was killed\n", static_cast<unsigned long long>(cap));
    return 137;
  }
  if (r.status == "exited") return r.exit_code.value_or(0);
  if (r.status == "signaled") return 128 + r.signal.value_or(0);
  if (r.status == "timeout") {
    std::fprintf(stderr, "cordon: the command timed out after %u ms and was killed\n", req.timeout_ms);
    return 124;
  }
  if (r.status == "oom") {
    std::fprintf(stderr, "cordon: the command exceeded the memory limit (%llu MiB) and was killed\n",
                 static_cast<unsigned long long>(policy->limits().memory_bytes >> 20));
    return 137;
  }
  if (r.status == "error") {
    std::fprintf(stderr, "cordon: %s\n", r.detail.c_str());
    return r.exit_code.value_or(127);
  }
  std::fprintf(stderr, "cordon: the command was killed (%s)%s%s\n", r.status.c_str(), r.detail.empty() ? "" : ": ", r.detail.c_str());
  return 137;
}

}  // namespace cordon::server
