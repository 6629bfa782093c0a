// Leaders are started before their commands are known. Cloning a process as init of a new PID
// namespace and stripping it (signals, capabilities, rlimits, the seccomp delta) is the larger
// part of starting a command, and none of it depends on the command; so a prepared leader waits
// on a socket for the next command. The broker takes one from the worker ahead of time and
// sends a pipes-mode command straight to it (Take, SendCommandToLeader); a terminal command,
// whose pty the worker opens, goes to the worker's own (Launch), which it then replaces.
#pragma once

#include <sys/types.h>

#include <optional>

#include "sandbox/linux/leader.h"
#include "sandbox/status.h"
#include "sandbox/unique_fd.h"

namespace cordon::linux_sandbox {

// A leader cloned by this worker that has not been given its command yet. Single-threaded use
// in the worker.
class StandbyLeader {
 public:
  pid_t pid() const { return pid_; }
  int pidfd() const { return pidfd_.get(); }
  UniqueFd TakePidfd() { return std::move(pidfd_); }
  // The end the command is sent on (SendCommandToLeader), for handing the leader to the broker.
  UniqueFd TakeSocket() { return std::move(socket_); }

 private:
  friend class LeaderPool;
  StandbyLeader(pid_t pid, UniqueFd pidfd, UniqueFd socket)
      : pid_(pid), pidfd_(std::move(pidfd)), socket_(std::move(socket)) {}
  pid_t pid_;
  UniqueFd pidfd_;
  UniqueFd socket_;
};

// Sends `spec` (its fds are passed, not consumed) to the standby leader at the other end of
// `leader_socket`: one datagram, in the format the leader decodes. 0 on success, else the errno
// of the failed send (EPIPE or ECONNRESET: the leader has died); a leader left without its
// command is the caller's to end.
int SendCommandToLeader(int leader_socket, const LeaderSpec& spec);

class LeaderPool {
 public:
  // `setup.command_filter` must outlive the pool.
  explicit LeaderPool(const LeaderSetup& setup) : setup_(setup) {}

  // Hands `spec` (its fds are passed, not consumed) to the waiting leader, or to a new one when
  // none is waiting or the waiting one has died. The caller owns the returned leader's pidfd;
  // the leader is reaped by the kernel (the worker ignores SIGCHLD).
  Result<StandbyLeader> Launch(const LeaderSpec& spec);

  // Starts the next waiting leader if there is none. A failure (e.g. the session's process
  // limit) is left for the next Launch to report. The new leader closes every inherited fd but
  // its socket and stdio before it does anything else.
  void Refill();

  // Gives up the waiting leader, or a new one, to be handed its command elsewhere: the broker
  // keeps one and sends a command straight to it, a hop fewer than through this worker.
  Result<StandbyLeader> Take();

 private:
  Result<StandbyLeader> Start();
  LeaderSetup setup_;
  std::optional<StandbyLeader> ready_;
};

}  // namespace cordon::linux_sandbox
