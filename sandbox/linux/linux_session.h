// A Linux sandbox session: a cgroup Job (when the host offers one), a worker in fresh
// namespaces that confined itself, and the control socket to it. Requests to the worker are
// serialised (one in flight); everything slow (output, exit status, operation results) flows
// over per-request pipes, so the control socket is only held for a round trip.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>

#include "sandbox/linux/cgroup_job.h"
#include "sandbox/linux/ipc.h"
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
  // Waits (control_mu_ held) until the worker's answer is readable; false if the worker exited
  // or stayed silent too long.
  bool AwaitReply();

  Policy policy_;
  EnforcementReport report_;
  std::shared_ptr<CgroupJob> job_;
  LaunchedWorker worker_;
  std::mutex control_mu_;
  std::atomic<bool> alive_{false};
  std::atomic<bool> closed_{false};
  std::atomic<uint64_t> next_id_{1};  // Spawn and RunOperation may race
};

}  // namespace cordon::linux_sandbox
