// The session's Job Object: every process of the session is in it, and closing the last
// handle (session closed, client gone, server exited) kills them all (KILL_ON_JOB_CLOSE).
// Limits map from the Policy: job memory, active processes, per-process CPU time, CPU rate,
// UI restrictions, die-on-unhandled-exception. Kill-on-close and the memory/process limits
// are required (creation fails closed); CPU rate and UI restrictions are reported as
// degraded when the host refuses them (Wine rejects CPU rate with ERROR_INVALID_PARAMETER).
#pragma once

#include <windows.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/policy.h"
#include "sandbox/status.h"
#include "sandbox/win/scoped_handle.h"

namespace cordon::win {

struct JobLimits {
  uint64_t job_memory_bytes = 0;   // 0 = none
  uint32_t active_processes = 0;   // 0 = none
  uint32_t cpu_seconds_per_process = 0;
  uint32_t cpu_rate_percent = 0;   // hard cap over the whole job; 0 = none
  bool ui_restrictions = true;

  static JobLimits FromPolicy(const ResourceLimits& limits);
};

// Completion-port messages worth acting on (JOB_OBJECT_MSG_*).
enum class JobEventKind { kNewProcess, kExitProcess, kAbnormalExit, kActiveZero, kMemoryLimit,
                          kProcessLimit, kOther };
struct JobEvent {
  JobEventKind kind = JobEventKind::kOther;
  DWORD pid = 0;
};

class Job {
 public:
  static Result<Job> Create(const JobLimits& limits);

  Status Assign(HANDLE process) const;
  Status Terminate(UINT exit_code) const;
  Result<uint32_t> ActiveProcesses() const;
  // Waits up to timeout_ms for the next message; nullopt on timeout.
  Result<std::optional<JobEvent>> NextEvent(DWORD timeout_ms) const;
  HANDLE handle() const { return job_.get(); }
  // Limits the host refused, one line each ("cpu rate: ..."); empty when all were accepted.
  const std::vector<std::string>& degraded() const { return degraded_; }

 private:
  ScopedHandle job_;
  ScopedHandle port_;
  std::vector<std::string> degraded_;
};

}  // namespace cordon::win
