// A command running in a Linux session: its output pipes (or pty master), stdin, the status
// pipe its leader reports on, and a pidfd of the leader for signals. Ending the tree asks the
// leader (SIGTERM, grace, SIGKILL inside its PID namespace) and, as a backstop, SIGKILLs the
// leader itself later - the kernel then kills the whole namespace.
#pragma once

#include <atomic>
#include <mutex>
#include <optional>

#include "sandbox/linux/cgroup_job.h"
#include "sandbox/session.h"
#include "sandbox/unique_fd.h"

namespace cordon::linux_sandbox {

struct ProcessFds {
  UniqueFd out;     // stdout pipe, or the pty master
  UniqueFd err;     // stderr pipe (pipes mode)
  UniqueFd in;      // stdin pipe write end (pipes mode with stdin), or a dup of the master
  UniqueFd status;  // the leader's status pipe
  UniqueFd leader;  // pidfd
};

class LinuxProcess final : public SandboxProcess {
 public:
  LinuxProcess(int pid, bool tty, uint32_t grace_ms, ProcessFds fds, std::shared_ptr<CgroupJob> job);
  ~LinuxProcess() override;

  int pid() const override { return pid_; }
  Result<OutputChunk> ReadOutput(size_t max_bytes) override;
  ProcessResult Wait() override;
  Status WriteStdin(std::string_view data) override;
  Status CloseStdin() override;
  Status Resize(uint16_t cols, uint16_t rows) override;
  Status Signal(int signal) override;
  Status Kill(KillReason reason) override;
  bool exited() const override { return exited_.load(); }

 private:
  Status SendToLeader(int value);

  int pid_;
  bool tty_;
  uint32_t grace_ms_;
  ProcessFds fds_;
  std::shared_ptr<CgroupJob> job_;
  uint64_t oom_before_ = 0;
  bool out_open_ = true, err_open_ = true;
  std::mutex in_mu_;
  std::mutex wait_mu_;
  std::optional<ProcessResult> result_;
  std::atomic<bool> exited_{false};
  std::atomic<bool> kill_sent_{false};
  std::atomic<int> kill_reason_{-1};
};

}  // namespace cordon::linux_sandbox
