// The session Job: a cgroup that holds the worker and everything it starts, carries the
// session's memory/pids/cpu limits and kills the whole tree at once. The broker (server)
// creates it before the worker starts and adds the worker's pid before the worker runs
// anything; the worker's descendants inherit it. Falls back, in order: cgroup v2 with
// delegated controllers, v1 memory/pids controllers (tracked and killed through the cgroup2
// mount on hybrid hosts), cgroup2 for tracking only, nothing - each fallback named by
// degraded_reason() so sandbox/info can say what is per process instead of per session.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "sandbox/linux/host_probe.h"
#include "sandbox/status.h"

namespace cordon {

enum class JobKind {
  kCgroupV2,        // v2 memory + pids (+ cpu): limits, accounting and cgroup.kill
  kCgroupV1Hybrid,  // v1 memory/pids limits; a controller-less cgroup2 tracks and kills
  kCgroupV1,        // v1 memory/pids limits; kill by freeze + SIGKILL sweep
  kTrackingOnly,    // cgroup2 without controllers: tracking and kill, limits by rlimits
  kNone,            // no writable cgroup: rlimits, and the PID namespace for the kill
};
const char* JobKindName(JobKind kind);

struct JobLimits {
  uint64_t memory_bytes = 0;    // whole session, swap always 0; 0 = no limit
  uint32_t max_pids = 0;        // whole session; 0 = no limit
  uint32_t cpu_millicores = 0;  // 1000 = one core; 0 = no limit
};

// Not thread-safe: one owner (the session) drives it.
class CgroupJob {
 public:
  // `name` is one path component, unique per live session (e.g. "cordon-<pid>-<session>").
  // Fails only when a cgroup that was chosen cannot be cleaned up; a host without usable
  // cgroups gets a kNone job with degraded_reason() set.
  static Result<std::unique_ptr<CgroupJob>> Create(const std::string& name, const JobLimits& limits,
                                                   const CgroupHost& host);
  static Result<std::unique_ptr<CgroupJob>> Create(const std::string& name,
                                                   const JobLimits& limits) {
    return Create(name, limits, ProbeHostOnce().cgroup);
  }

  CgroupJob(const CgroupJob&) = delete;
  CgroupJob& operator=(const CgroupJob&) = delete;
  // Kills what is left and removes the cgroups.
  ~CgroupJob();

  JobKind kind() const { return kind_; }
  // Empty when limits, accounting and kill all work per session.
  const std::string& degraded_reason() const { return degraded_reason_; }
  bool enforces_memory() const { return enforces_memory_; }
  bool enforces_pids() const { return enforces_pids_; }
  // The cgroup2 directory (for CLONE_INTO_CGROUP or diagnostics); "" without one.
  const std::string& v2_dir() const { return v2_dir_; }

  // Moves `pid` (the whole thread group) into every cgroup of the job. Fails closed: the
  // caller must kill the process if this fails.
  Status AddProcess(pid_t pid);
  // Pids currently in the job, as seen from our PID namespace.
  std::vector<pid_t> Pids() const;
  // Kills every process in the job, including reparented and setsid() ones, and waits until
  // the cgroup is empty. cgroup.kill where there is a cgroup2 directory; otherwise repeated
  // freeze + SIGKILL + thaw sweeps over cgroup.procs. A no-op for kNone.
  Status KillAll();
  // OOM kills inside the job so far (v2 memory.events, v1 memory.oom_control); 0 if unknown.
  uint64_t OomKillCount() const;
  // Highest memory use so far in bytes (v2 memory.peak, v1 memory.max_usage_in_bytes).
  uint64_t PeakMemory() const;
  // Removes the (empty) cgroups. Idempotent.
  Status Remove();

 private:
  CgroupJob() = default;
  Status SetUpV2(const CgroupHost& host, const std::string& name, const JobLimits& limits);
  Status SetUpV1(const CgroupHost& host, const std::string& name, const JobLimits& limits);
  Status SweepKill();
  Status WaitEmpty(const std::string& dir);
  std::string ProcsDir() const;

  JobKind kind_ = JobKind::kNone;
  std::string degraded_reason_;
  bool enforces_memory_ = false;
  bool enforces_pids_ = false;
  std::string v2_dir_;
  std::map<std::string, std::string> v1_dirs_;  // controller -> directory
  bool v2_memory_ = false;                      // memory accounting lives in v2_dir_
};

}  // namespace cordon
