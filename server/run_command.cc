// `cordon run -- CMD ARGS`: one sandboxed command with the terminal or pipes passed through,
// like `bwrap` or `codex sandbox`. The exit status is passed through; when the sandbox ended
// the command (timeout, memory, output), one line on stderr says why.
#include <cstdio>
#include <thread>

#include "server/commands.h"
#include "server/host_env.h"
#include "server/terminal.h"

namespace cordon::server {

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
  bool tty = StdioIsTerminal();
  SpawnRequest req;
  req.argv = options.argv;
  std::string here = CurrentDirectory();
  req.cwd = here.empty() ? policy->workspace_roots().front() : here;
  req.env = BuildEnvironment(policy->env(), ServerEnvironment(), {});
  req.tty = tty;
  req.stdin_pipe = true;
  req.timeout_ms = policy->limits().wall_timeout_ms;
  if (tty) {
    if (auto size = StdoutTerminalSize()) {
      req.cols = size->cols;
      req.rows = size->rows;
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
    ForwardStdin([&p](std::string_view data) { return p.WriteStdin(data).ok(); });
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
    WriteToCaller(chunk->stream == OutputStream::kStderr, chunk->data);
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
