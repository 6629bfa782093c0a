// One command of an elevated session, as the server sees it (SandboxProcess): a connected
// cordon-runner.exe that started the command in its own job. Output, the exit and errors come
// in as frames read by one thread; stdin, resize and terminate go out as frames. Losing the
// runner (it died, or the session Job was ended) ends the process with status "killed" when a
// kill was asked for, else "error". Destroying the object closes the runner's input pipe (the
// runner then ends the command's job and itself) and terminates the runner as a backstop.
#pragma once

#include <windows.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "sandbox/session.h"
#include "sandbox/win/output_queue.h"
#include "sandbox/win/runner_client.h"
#include "sandbox/win/runner_protocol.h"

namespace cordon::win {

class RunnerProcess final : public SandboxProcess {
 public:
  // Sends the spawn request and waits for the runner's ready (or error) answer. `session_closed`
  // (optional) is set by the owning session when it is closed: a runner lost after that was
  // killed with the session Job, not crashed.
  static Result<std::unique_ptr<RunnerProcess>> Start(RunnerConnection connection, const RunnerSpawn& spawn,
                                                      std::shared_ptr<const std::atomic<bool>> session_closed = nullptr);
  ~RunnerProcess() override;

  int pid() const override { return pid_; }
  Result<OutputChunk> ReadOutput(size_t max_bytes) override;
  ProcessResult Wait() override;
  Status WriteStdin(std::string_view data) override;
  Status CloseStdin() override;
  Status Resize(uint16_t cols, uint16_t rows) override;
  Status Signal(int signal) override;
  Status Kill(KillReason reason) override;
  bool exited() const override;

  // The runner's process id (tests: to watch it end when its pipe closes).
  DWORD runner_pid() const { return conn_.runner.pid; }
  HANDLE runner_process() const { return conn_.runner.process.get(); }

 private:
  explicit RunnerProcess(RunnerConnection connection);
  Status Send(const nlohmann::json& frame);
  void ReadLoop();
  void Finish(ProcessResult result);

  RunnerConnection conn_;
  int pid_ = 0;
  std::mutex write_mu_;  // guards conn_.pipes.to_runner
  OutputQueue output_;
  mutable std::mutex mu_;  // guards result_
  std::condition_variable cv_;
  std::optional<ProcessResult> result_;
  std::atomic<int> kill_reason_{-1};
  std::shared_ptr<const std::atomic<bool>> session_closed_;
  std::thread reader_;
};

}  // namespace cordon::win
