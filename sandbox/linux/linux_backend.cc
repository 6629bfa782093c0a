// The Linux backend: decides, from the host probe, what a policy will get (and fails closed when
// the filesystem or network cannot be confined), builds the session's Job and worker, and keeps
// a small pool of ready workers for the default policy.
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "sandbox/backend.h"
#include "sandbox/linux/cgroup_job.h"
#include "sandbox/linux/host_probe.h"
#include "sandbox/linux/linux_session.h"
#include "sandbox/linux/seccomp_policy.h"

namespace cordon {
namespace {

using linux_sandbox::LaunchSpec;
using linux_sandbox::LinuxSession;
using linux_sandbox::WorkerInit;

const std::vector<std::string>& ExtraWritable() {
  static const std::vector<std::string> paths = {"/tmp", "/var/tmp", "/dev/shm", "/dev/null", "/dev/zero", "/dev/full",
                                                 "/dev/tty", "/dev/ptmx", "/dev/pts", "/dev/random", "/dev/urandom"};
  return paths;
}

class LinuxBackend final : public SandboxBackend {
 public:
  LinuxBackend() : host_(ProbeHostOnce()) {}
  ~LinuxBackend() override { StopPool(); }

  std::string Platform() const override { return "linux"; }
  nlohmann::json HostJson() const override { return ToJson(host_); }

  EnforcementReport Predict(const Policy& policy) const override {
    EnforcementReport r;
    bool ns = host_.user_namespaces;
    if (policy.mode() == SandboxMode::kDangerFullAccess) {
      r.filesystem = {"off", "danger-full-access: the policy allows writing anywhere"};
    } else if (ns) {
      std::string layers = "mount namespace: read-only root, writable roots bound read-write, protected paths read-only, read-denied paths hidden";
      if (host_.landlock_abi > 0) r.filesystem = {"enforced", layers + "; Landlock ABI " + std::to_string(host_.landlock_abi) + " as a second layer"};
      else r.filesystem = {"enforced", layers + "; no Landlock second layer (" + host_.landlock_reason + ")"};
    } else {
      r.filesystem = {"off", "no user namespaces (" + host_.user_namespaces_reason + ")"};
    }
    if (policy.network() == NetworkMode::kFull) {
      r.network = {"off", "the policy allows the network"};
    } else if (ns && host_.network_namespaces) {
      std::string extra = host_.landlock_abi >= 4 ? ", Landlock TCP rules" : "";
      r.network = {"enforced", "empty network namespace (loopback only), seccomp allows only AF_UNIX sockets" + extra};
    } else {
      r.network = {"off", "no network namespace (" + host_.network_namespaces_reason + ")"};
    }
    std::string version = host_.cgroup.Version();
    if (version == "v2") r.resources = {"enforced", "cgroup v2: memory.max, pids.max per session; rlimits per command"};
    else if (version == "v1") r.resources = {"enforced", "cgroup v1 memory and pids controllers per session; rlimits per command"};
    else r.resources = {"degraded", "no delegated cgroup: memory limit is per process (RLIMIT_AS), process limit per user (RLIMIT_NPROC)" +
                                        (host_.cgroup.reason.empty() ? std::string() : "; " + host_.cgroup.reason)};
    if (ns) r.process_tree = {"enforced", "each session and each command is init of its own PID namespace: nothing outlives them"};
    else r.process_tree = {"off", "no PID namespace without user namespaces"};
    return r;
  }

  Result<std::shared_ptr<SandboxSession>> CreateSession(const Policy& policy) override {
    std::string key = PolicyToJson(policy).dump();
    {
      std::unique_lock<std::mutex> lock(pool_mu_);
      if (key == pool_key_ && !ready_.empty()) {
        auto s = ready_.front();
        ready_.pop_front();
        pool_cv_.notify_all();
        lock.unlock();
        if (s->alive()) return std::shared_ptr<SandboxSession>(s);
      }
    }
    auto s = Build(policy);
    if (!s) return s.error();
    return std::shared_ptr<SandboxSession>(*s);
  }

  void Prewarm(const Policy& policy, int count) override {
    std::lock_guard<std::mutex> lock(pool_mu_);
    pool_key_ = PolicyToJson(policy).dump();
    pool_policy_ = std::make_unique<Policy>(policy);
    pool_target_ = count;
    if (count > 0 && !pool_thread_.joinable()) pool_thread_ = std::thread([this] { PoolLoop(); });
    pool_cv_.notify_all();
  }

 private:
  Result<std::shared_ptr<LinuxSession>> Build(const Policy& policy) {
    EnforcementReport report = Predict(policy);
    bool fs_ok = report.filesystem.state != "off" || policy.mode() == SandboxMode::kDangerFullAccess;
    bool net_ok = report.network.state != "off" || policy.network() == NetworkMode::kFull;
    if (!host_.user_namespaces || !fs_ok || !net_ok) {
      std::string what = !fs_ok ? "filesystem confinement" : "network confinement";
      std::string why = host_.user_namespaces ? report.network.reason : host_.user_namespaces_reason;
      return MakeError(ErrorKind::kUnsupported,
                       "this host cannot enforce " + what + ": " + why +
                           ". Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
                           "user.max_user_namespaces > 0; in a container, allow the unshare/clone syscalls), "
                           "or run `cordon check` for details");
    }
    JobLimits jl;
    jl.memory_bytes = policy.limits().memory_bytes;
    jl.max_pids = policy.limits().max_processes;
    static std::atomic<int> counter{0};
    std::string name = "cordon-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
    std::shared_ptr<CgroupJob> job;
    auto created = CgroupJob::Create(name, jl, host_.cgroup);
    if (created) {
      job = std::move(*created);
      if (!job->enforces_memory() || !job->enforces_pids())
        report.resources = {"degraded", job->degraded_reason().empty() ? "the session's cgroup cannot enforce memory and process limits" : job->degraded_reason()};
    } else {
      report.resources = {"degraded", "no session cgroup (" + created.error().detail + "): memory limit is per process (RLIMIT_AS), process limit per user (RLIMIT_NPROC)"};
    }

    WorkerInit init;
    init.policy = PolicyToJson(policy);
    bool full = policy.mode() == SandboxMode::kDangerFullAccess;
    init.mounts.full_access = full;
    init.mounts.writable_roots = policy.writable_roots();
    init.mounts.protected_paths = policy.protected_paths();
    init.mounts.read_deny = policy.read_deny();
    init.mounts.tmp_bytes = policy.limits().tmp_bytes;
    init.mounts.hide_run = !full;
    init.mounts.keep_resolver = policy.network() == NetworkMode::kFull;
    if (!full) {
      init.landlock = RulesForPolicy(policy, ExtraWritable());
      init.landlock.required = false;  // the mount namespace is the first layer
      init.landlock_abi = host_.landlock_abi;
    }
    auto filters = Filters(policy.network());
    if (!filters) return filters.error();
    init.worker_filter = filters->first;
    init.command_filter = filters->second;
    init.cgroup_enforces_limits = job && job->enforces_memory() && job->enforces_pids();

    LaunchSpec spec;
    spec.new_network = policy.network() == NetworkMode::kNone;
    spec.worker_path = linux_sandbox::DefaultWorkerPath();
    if (::geteuid() == 0) {
      // Commands run as the workspace's owner, never as a privileged user of the host.
      struct stat st {};
      if (::stat(policy.workspace_roots().front().c_str(), &st) == 0) {
        spec.inside_uid = st.st_uid;
        spec.inside_gid = st.st_gid;
      }
    } else {
      spec.inside_uid = ::geteuid();
      spec.inside_gid = ::getegid();
    }
    if (job) spec.before_start = [job](pid_t pid) { return job->AddProcess(pid); };
    auto session = LinuxSession::Start(policy, init, spec, job, report);
    if (!session) return session.error();
    return *session;
  }

  Result<std::pair<std::vector<sock_filter>, std::vector<sock_filter>>> Filters(NetworkMode net) {
    std::lock_guard<std::mutex> lock(filter_mu_);
    auto& slot = filters_[net == NetworkMode::kFull ? 1 : 0];
    if (!slot.first.empty()) return slot;
    auto w = CompileSeccomp(net, SeccompStage::kWorker);
    if (!w) return w.error();
    // Commands inherit the worker's filter; they only add the delta that closes CLONE_NEWPID.
    auto c = CompileSeccomp(net, SeccompStage::kCommandDelta);
    if (!c) return c.error();
    slot = {std::move(*w), std::move(*c)};
    return slot;
  }

  void PoolLoop() {
    std::unique_lock<std::mutex> lock(pool_mu_);
    while (!pool_stop_) {
      if (static_cast<int>(ready_.size()) >= pool_target_ || !pool_policy_) {
        pool_cv_.wait(lock);
        continue;
      }
      Policy policy = *pool_policy_;
      std::string key = pool_key_;
      lock.unlock();
      auto s = Build(policy);
      lock.lock();
      if (!s) {
        spdlog::warn("worker pool: {}", s.error().detail);
        pool_cv_.wait_for(lock, std::chrono::seconds(5));
        continue;
      }
      if (key == pool_key_ && !pool_stop_) ready_.push_back(*s);
    }
  }

  void StopPool() {
    {
      std::lock_guard<std::mutex> lock(pool_mu_);
      pool_stop_ = true;
      ready_.clear();
    }
    pool_cv_.notify_all();
    if (pool_thread_.joinable()) pool_thread_.join();
  }

  const HostFeatures& host_;
  std::mutex filter_mu_;
  std::pair<std::vector<sock_filter>, std::vector<sock_filter>> filters_[2];
  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::deque<std::shared_ptr<LinuxSession>> ready_;
  std::string pool_key_;
  std::unique_ptr<Policy> pool_policy_;
  int pool_target_ = 0;
  bool pool_stop_ = false;
  std::thread pool_thread_;
};

}  // namespace

std::unique_ptr<SandboxBackend> MakeSandboxBackend(const BackendOptions& /*options*/) { return std::make_unique<LinuxBackend>(); }

}  // namespace cordon
