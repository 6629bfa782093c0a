// The per-command leader. It is init of a fresh PID namespace, started by the worker before its
// command is known (leader_pool.h); it forks the command, forwards signals to it, enforces the
// wall timeout, and when the command exits (or is told to end the tree) kills everything left
// in its namespace, reaps it, and writes the result as one JSON line to the status pipe. Because
// it is init of that namespace, nothing the command starts - daemons that setsid or double-fork
// included - can outlive it: the kernel kills the namespace when its init dies, and the command
// cannot signal its own init.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "sandbox/policy.h"

namespace cordon::linux_sandbox {

// Delivered to the leader with sigqueue()/pidfd_send_signal(): si_value.sival_int is a plain
// signal number to forward to the command's process group, or one of these requests.
inline constexpr int kLeaderSignal = 40;  // SIGRTMIN+6 on glibc; fixed so both sides agree
inline constexpr int kEndTree = 1000;      // SIGTERM the tree, SIGKILL after the grace period
inline constexpr int kEndTreeTimeout = 1001;

// What every leader of a session gets, whatever its command.
struct LeaderSetup {
  const std::vector<sock_filter>* command_filter = nullptr;  // the seccomp delta
  ResourceLimits limits;
  bool cgroup_enforces_limits = false;
};

// One command.
struct LeaderSpec {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string cwd;
  bool tty = false;
  std::string pty_slave;  // path, when tty
  int stdin_fd = -1;      // pipes mode; -1 = /dev/null
  int stdout_fd = -1;
  int stderr_fd = -1;
  int status_fd = -1;
  uint32_t timeout_ms = 0;
  uint32_t grace_ms = 2000;
};

// The leader's state once the command-independent part is done.
struct PreparedLeader {
  std::string error;  // the first step that failed; reported on the command's status pipe
  char* stack_top = nullptr;  // the command's stack between clone and exec
  int dev_null = -1;          // the stdin of a command without a pipe
  int dev_null_errno = 0;     // why dev_null is -1
};

// In a freshly cloned leader: default signal dispositions with the leader's signals blocked,
// no capabilities, and the command's seccomp delta loaded on the leader itself, so that the
// command inherits it (the leader needs nothing the delta denies). Everything here is the same
// for every command, so it runs before the command is known.
PreparedLeader PrepareLeader(const LeaderSetup& setup);

// The command rlimits, applied once the command has been received and decoded: without a
// cgroup they include RLIMIT_AS, which must not starve the leader's own allocations for it
// (a sanitizer runtime's reservations already exceed it). Cheap: a few prlimit calls.
void LimitLeader(const LeaderSetup& setup, PreparedLeader* prepared);

// Never returns. The command is started with clone(CLONE_VM | CLONE_VFORK) on its own stack:
// no page tables are copied and the leader sleeps until the command has exec'd (or failed to).
[[noreturn]] void RunLeader(const LeaderSpec& spec, const PreparedLeader& prepared);

}  // namespace cordon::linux_sandbox
