// A Linux sandbox session: a cgroup Job (when the host offers one), a worker in fresh
// namespaces that confined itself, and the control socket to it. Requests to the worker are
// serialised (one in flight); everything slow (output, exit status, operation results) flows
// over per-request pipes, so the control socket is only held for a round trip. The session also
// holds one prepared leader taken from the worker ahead of time: a pipes-mode command is sent
// straight to it, and the next one is asked for without waiting for the answer.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>

#include "sandbox/linux/cgroup_job.h"
#include "sandbox/linux/ipc.h"
#include "sandbox/linux/linux_process.h"
#include "sandbox/linux/worker_init.h"
#include "sandbox/linux/worker_launcher.h"
#include "sandbox/session.h"

namespace cordon::linux_sandbox {

class LinuxSession final : public SandboxSession {
 public:
  // Builds the session; fails closed with the step that failed.
  static Result<std::shared_ptr<LinuxSession>> Start(const Policy& policy, const WorkerInit& init,
                                                     const LaunchSpec& spec, std::shared_ptr<CgroupJob> job,
                                                     EnforcementReport report);
  ~LinuxSession() override;

  const Policy& policy() const override { return policy_; }
  const EnforcementReport& enforcement() const override { return report_; }
  Result<std::unique_ptr<SandboxProcess>> Spawn(const SpawnRequest& request) override;
  Result<nlohmann::json> RunOperation(const std::string& op, const nlohmann::json& request,
                                      const std::atomic<bool>* cancel) override;
  void Close() override;
  bool alive() const override { return alive_.load(); }
  int worker_pid() const { return worker_.pid; }

 private:
  LinuxSession(const Policy& policy, EnforcementReport report) : policy_(policy), report_(std::move(report)) {}
  Result<IpcMessage> RoundTrip(const nlohmann::json& body, const std::vector<int>& fds);
  Result<IpcMessage> RoundTripLocked(const nlohmann::json& body, const std::vector<int>& fds);
  // The worker's answer to request `id` (control_mu_ held); a silent, dead or out-of-step
  // worker loses the session.
  Result<IpcMessage> ReceiveAnswerLocked(const nlohmann::json& id);
  // Asks the worker for a prepared leader without waiting; the answer is read by
  // CollectLeaderLocked before anything else is sent, so requests never interleave.
  void RequestLeaderLocked();
  // Reads the answer to an outstanding leader request (bounded like any answer). An error
  // means the worker is gone and the session lost; a refusal only leaves no leader in hand.
  Status CollectLeaderLocked();
  // Sends a pipes-mode command straight to the leader in hand. Empty when there is none or it
  // has died (the caller goes through the worker instead).
  std::optional<Result<std::unique_ptr<SandboxProcess>>> SpawnOnStandbyLocked(const SpawnRequest& req, ProcessFds& mine,
                                                                              const std::vector<int>& fds);
  // Waits (control_mu_ held) until the worker's answer is readable; false if the worker exited
  // or stayed silent too long.
  bool AwaitReply();

  Policy policy_;
  EnforcementReport report_;
  std::shared_ptr<CgroupJob> job_;
  LaunchedWorker worker_;
  std::mutex control_mu_;
  // A leader waiting for its command (control_mu_).
  struct HeldLeader {
    int pid = 0;
    UniqueFd socket;
    UniqueFd pidfd;
  };
  std::optional<HeldLeader> standby_;
  std::optional<uint64_t> leader_request_;  // id of the unanswered leader request (control_mu_)
  std::atomic<bool> alive_{false};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> next_id_{1};  // Spawn and RunOperation may race
};

}  // namespace cordon::linux_sandbox
