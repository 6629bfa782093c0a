// A sandbox session: one policy, one worker already inside the sandbox, one Job (cgroup or Job
// Object), and the processes started in it. This is the platform-neutral face of the backends
// in linux/ and win/: the server creates sessions, spawns processes and runs file operations
// through it and never sees a namespace, a cgroup or a token.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/policy.h"
#include "sandbox/status.h"

namespace cordon {

// One guarantee's state on this host for this session.
struct Enforcement {
  std::string state = "off";  // "enforced" | "degraded" | "off"
  std::string reason;
};

struct EnforcementReport {
  Enforcement filesystem;
  Enforcement network;
  Enforcement resources;
  Enforcement process_tree;
};
nlohmann::json ToJson(const EnforcementReport& report);

struct SpawnRequest {
  std::vector<std::string> argv;
  std::string cwd;                 // absolute, inside the sandbox
  std::vector<std::string> env;    // final environment, "K=V"
  bool tty = false;
  uint16_t cols = 80;
  uint16_t rows = 24;
  bool stdin_pipe = false;         // else /dev/null (pipes mode)
  uint32_t timeout_ms = 0;         // 0: none
  uint32_t grace_ms = 2000;        // SIGTERM -> SIGKILL delay when the tree is ended
};

// PROTOCOL.md §5 `result`.
struct ProcessResult {
  std::string status = "exited";  // exited|signaled|timeout|oom|killed|output_limit|error
  std::optional<int> exit_code;
  std::optional<int> signal;
  uint64_t wall_ms = 0;
  uint64_t cpu_ms = 0;
  uint64_t max_rss_kb = 0;
  bool output_truncated = false;
  std::string detail;
};
nlohmann::json ToJson(const ProcessResult& result);

enum class OutputStream { kStdout, kStderr, kPty };
const char* OutputStreamName(OutputStream stream);

struct OutputChunk {
  OutputStream stream = OutputStream::kStdout;
  std::string data;  // empty with eof = true: every stream has ended
  bool eof = false;
};

// How the tree of a process is ended.
enum class KillReason { kTerminate, kTimeout, kOutputLimit, kCancelled, kSessionClosed };

class SandboxProcess {
 public:
  virtual ~SandboxProcess() = default;
  // The process id as seen inside the session.
  virtual int pid() const = 0;
  // Blocks until output is available on any stream or all streams ended. Thread-safe with
  // respect to the control methods below, but only one thread may read.
  virtual Result<OutputChunk> ReadOutput(size_t max_bytes) = 0;
  // Blocks until the process (and its whole tree) has ended, then returns its result. Call after
  // ReadOutput reported eof, or from another thread.
  virtual ProcessResult Wait() = 0;
  virtual Status WriteStdin(std::string_view data) = 0;
  virtual Status CloseStdin() = 0;
  virtual Status Resize(uint16_t cols, uint16_t rows) = 0;
  // Sends a signal to the process (its process group), not the tree.
  virtual Status Signal(int signal) = 0;
  // Ends the whole tree: SIGTERM, a grace period, then SIGKILL. Returns at once.
  virtual Status Kill(KillReason reason) = 0;
  virtual bool exited() const = 0;
};

class SandboxSession {
 public:
  virtual ~SandboxSession() = default;
  virtual const Policy& policy() const = 0;
  virtual const EnforcementReport& enforcement() const = 0;
  virtual Result<std::unique_ptr<SandboxProcess>> Spawn(const SpawnRequest& request) = 0;
  // Runs a file operation ("readFile", "readDirectory", "getMetadata", "writeFile",
  // "applyPatch") inside the sandbox. `request` and the result use the wire shapes.
  virtual Result<nlohmann::json> RunOperation(const std::string& op, const nlohmann::json& request,
                                              const std::atomic<bool>* cancel) = 0;
  // Kills everything in the session. Idempotent.
  virtual void Close() = 0;
  // False once the worker has died (the session is lost).
  virtual bool alive() const = 0;
};

// Builds the session's environment from the policy and the server's own environment, then
// applies the client's additions (which the policy's exclusions do not filter: the client
// named them explicitly).
std::vector<std::string> BuildEnvironment(const EnvPolicy& policy, char** server_env,
                                          const std::vector<std::pair<std::string, std::string>>& extra);

}  // namespace cordon
