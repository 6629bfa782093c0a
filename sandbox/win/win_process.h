// One command of a Windows session (SandboxProcess). The command and its descendants live in
// a per-command Job nested in the session's Job, so ending "the tree" is one
// TerminateJobObject and nothing the command started can escape it. Output is pumped by one
// thread per stream into a queue that ReadOutput drains; a watcher thread enforces the
// timeout. Windows has no signals: TERM/KILL/INT/HUP/QUIT all end the tree (there is no
// graceful console-control delivery to a CREATE_NO_WINDOW process) - a documented gap.
#pragma once

#include <windows.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "sandbox/session.h"
#include "sandbox/win/conpty.h"
#include "sandbox/win/job.h"
#include "sandbox/win/output_queue.h"
#include "sandbox/win/spawn.h"

namespace cordon::win {

class WinProcess final : public SandboxProcess {
 public:
  // Takes ownership of the spawned process, its per-command job and (tty) pseudo console.
  WinProcess(SpawnedProcess proc, Job job, std::optional<PseudoConsole> pty, uint32_t timeout_ms);
  ~WinProcess() override;

  int pid() const override { return static_cast<int>(pid_); }
  Result<OutputChunk> ReadOutput(size_t max_bytes) override;
  ProcessResult Wait() override;
  Status WriteStdin(std::string_view data) override;
  Status CloseStdin() override;
  Status Resize(uint16_t cols, uint16_t rows) override;
  Status Signal(int signal) override;
  Status Kill(KillReason reason) override;
  bool exited() const override {
    return exited_.load() || ::WaitForSingleObject(proc_.process.get(), 0) == WAIT_OBJECT_0;
  }

 private:
  void Pump(HANDLE h, OutputStream stream);
  void Watch(uint32_t timeout_ms);

  DWORD pid_;
  SpawnedProcess proc_;
  Job job_;
  std::optional<PseudoConsole> pty_;
  std::chrono::steady_clock::time_point start_;

  OutputQueue output_;
  std::atomic<int> open_streams_{0};  // pump threads still reading; the last one ends output_
  std::mutex mu_;                     // guards result_
  std::optional<ProcessResult> result_;
  std::atomic<bool> exited_{false};
  std::atomic<int> kill_reason_{-1};
  std::mutex in_mu_;
  ScopedHandle stop_;  // set by the destructor to end the watcher
  std::thread out_thread_, err_thread_, watch_thread_;
};

}  // namespace cordon::win
