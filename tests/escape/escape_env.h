// Shared harness of the escape suite: per-test directories outside /tmp, a backend, and ways to
// run the probe inside a real session (SandboxBackend -> CreateSession -> Spawn) or directly on
// the host, plus listeners the test starts outside the sandbox. Every escape case runs the probe
// where it must be DENIED and pairs it with a control where the same probe must SUCCEED.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/backend.h"
#include "sandbox/policy.h"
#include "sandbox/session.h"
#include "sandbox/unique_fd.h"

namespace cordon::escape {

enum class Verdict { kSucceeded, kDenied, kError };
const char* VerdictName(Verdict v);

struct RunOutcome {
  Verdict verdict = Verdict::kError;
  ProcessResult result;  // sandboxed runs only
  int exit_code = -1;    // outside runs
  std::string out;
  std::string err;
};
// Prints as "DENIED (status exited, code 1): <stderr>" in assertion messages.
std::string Describe(const RunOutcome& r);

struct RunOptions {
  bool tty = false;
  uint32_t timeout_ms = 90000;  // backstop only: a hung case fails instead of hanging ctest
  std::vector<std::pair<std::string, std::string>> env;
  bool server_env = true;  // build the environment from ours through the policy
};

// Process-wide state, created on first use.
class EscapeEnv {
 public:
  static EscapeEnv& Get();
  SandboxBackend& backend() { return *backend_; }
  // The probe, copied to a directory every session can read (never under /tmp, which sessions
  // replace with a private one).
  const std::string& probe() const { return probe_; }
  // A root-owned setuid copy of the probe, "" when it cannot be made (not root, no copy given).
  const std::string& suid_probe() const { return suid_probe_; }
  const std::string& base() const { return base_; }
  bool root() const { return root_; }
  ~EscapeEnv();

 private:
  EscapeEnv();
  std::unique_ptr<SandboxBackend> backend_;
  std::string base_, probe_, suid_probe_;
  bool owns_base_ = false;
  bool root_ = false;
};

// A fresh directory per test: root/{ws,out,home}, owned by us; `home` is the fake $HOME whose
// .ssh/id_rsa and .netrc hold the string "SECRET-KEY".
struct Dirs {
  std::string root, ws, out, home;
};
Dirs MakeDirs(const std::string& name);

// Defaults(home) + workspace root `ws` + small limits suitable for the suite.
PolicyBuilder BaseBuilder(const Dirs& d);
Policy MustBuild(const PolicyBuilder& b);

std::shared_ptr<SandboxSession> MustCreate(const Policy& policy);
// Runs the probe with `args` in `session` (or in a fresh session for `policy`).
RunOutcome RunIn(SandboxSession& session, const std::vector<std::string>& args, const RunOptions& o = {});
RunOutcome RunSandboxed(const Policy& policy, const std::vector<std::string>& args, const RunOptions& o = {});
// Runs the probe directly on the host, unconfined. `keep_fd` >= 0 is passed down as fd 7;
// `tty` gives it a fresh pty as controlling terminal on fd 0.
RunOutcome RunOutside(const std::vector<std::string>& args, int keep_fd = -1, bool tty = false,
                      const std::string& exe = "");

// A listener on 127.0.0.1 (TCP, UDP) or a unix socket (path or abstract name) that greets every
// client with "cordon-listener"; the UDP one answers a ping with the greeting and a DNS query
// with a DNS response. Runs on its own thread until destroyed.
class Listener {
 public:
  enum Kind { kTcp, kUdp, kUnixPath, kUnixAbstract };
  Listener(Kind kind, const std::string& name = "");
  ~Listener();
  bool ok() const { return fd_.get() >= 0; }
  int port() const { return port_; }
  int accepted() const { return accepted_.load(); }

 private:
  void Loop();
  Kind kind_;
  UniqueFd fd_;
  UniqueFd stop_r_, stop_w_;
  int port_ = 0;
  std::string path_;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A child process of the test that sleeps until killed (a target for signals and ptrace).
class Sleeper {
 public:
  Sleeper();
  ~Sleeper();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// The cgroup file that carries the session's limit (pids.max / memory limit) as the host sees
// it, or "" when the session has no cgroup of its own.
std::string SessionLimitFile(SandboxSession& session);

// Tries an exclusive flock on `path` for up to `wait_ms`; true once it is free.
bool LockFreeWithin(const std::string& path, int wait_ms);

}  // namespace cordon::escape

#define EXPECT_DENIED(run) EXPECT_EQ((run).verdict, ::cordon::escape::Verdict::kDenied) << ::cordon::escape::Describe(run)
#define EXPECT_SUCCEEDED(run) \
  EXPECT_EQ((run).verdict, ::cordon::escape::Verdict::kSucceeded) << ::cordon::escape::Describe(run)
