#include "sandbox/win/job.h"

#include "sandbox/win/win_util.h"

namespace cordon::win {

JobLimits JobLimits::FromPolicy(const ResourceLimits& limits) {
  JobLimits out;
  out.job_memory_bytes = limits.memory_bytes;
  out.active_processes = limits.max_processes;
  out.cpu_seconds_per_process = limits.cpu_seconds;
  return out;
}

Result<Job> Job::Create(const JobLimits& limits) {
  Job job;
  job.job_.reset(::CreateJobObjectW(nullptr, nullptr));
  if (!job.job_)
    return WinError(ErrorKind::kSandboxFailed, "CreateJobObjectW");

  JOBOBJECT_EXTENDED_LIMIT_INFORMATION ext{};
  auto& basic = ext.BasicLimitInformation;
  // No BREAKAWAY_OK: a command cannot start a process outside the job.
  basic.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
  if (limits.job_memory_bytes != 0) {
    basic.LimitFlags |= JOB_OBJECT_LIMIT_JOB_MEMORY;
    ext.JobMemoryLimit = static_cast<SIZE_T>(limits.job_memory_bytes);
  }
  if (limits.active_processes != 0) {
    basic.LimitFlags |= JOB_OBJECT_LIMIT_ACTIVE_PROCESS;
    basic.ActiveProcessLimit = limits.active_processes;
  }
  if (limits.cpu_seconds_per_process != 0) {
    basic.LimitFlags |= JOB_OBJECT_LIMIT_PROCESS_TIME;
    basic.PerProcessUserTimeLimit.QuadPart = static_cast<LONGLONG>(limits.cpu_seconds_per_process) * 10000000;
  }
  if (!::SetInformationJobObject(job.job_.get(), JobObjectExtendedLimitInformation, &ext, sizeof(ext)))
    return WinError(ErrorKind::kSandboxFailed, "SetInformationJobObject(limits)");

  if (limits.cpu_rate_percent != 0) {
    JOBOBJECT_CPU_RATE_CONTROL_INFORMATION rate{};
    rate.ControlFlags = JOB_OBJECT_CPU_RATE_CONTROL_ENABLE | JOB_OBJECT_CPU_RATE_CONTROL_HARD_CAP;
    rate.CpuRate = limits.cpu_rate_percent * 100;  // in 1/100 of a percent
    if (!::SetInformationJobObject(job.job_.get(), JobObjectCpuRateControlInformation, &rate, sizeof(rate)))
      job.degraded_.push_back("cpu rate: " + WinError(ErrorKind::kUnsupported, "refused").detail);
  }
  if (limits.ui_restrictions) {
    // No clipboard, no global atoms, no desktop switching or system settings, no handles to
    // windows outside the job, no logoff/shutdown.
    JOBOBJECT_BASIC_UI_RESTRICTIONS ui{};
    ui.UIRestrictionsClass = JOB_OBJECT_UILIMIT_DESKTOP | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS |
                             JOB_OBJECT_UILIMIT_EXITWINDOWS | JOB_OBJECT_UILIMIT_GLOBALATOMS |
                             JOB_OBJECT_UILIMIT_HANDLES | JOB_OBJECT_UILIMIT_READCLIPBOARD |
                             JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS | JOB_OBJECT_UILIMIT_WRITECLIPBOARD;
    if (!::SetInformationJobObject(job.job_.get(), JobObjectBasicUIRestrictions, &ui, sizeof(ui)))
      job.degraded_.push_back("ui restrictions: " + WinError(ErrorKind::kUnsupported, "refused").detail);
  }

  job.port_.reset(::CreateIoCompletionPort(INVALID_HANDLE_VALUE, nullptr, 0, 1));
  if (!job.port_) return WinError(ErrorKind::kSandboxFailed, "CreateIoCompletionPort");
  JOBOBJECT_ASSOCIATE_COMPLETION_PORT assoc{};
  assoc.CompletionKey = job.job_.get();
  assoc.CompletionPort = job.port_.get();
  if (!::SetInformationJobObject(job.job_.get(), JobObjectAssociateCompletionPortInformation, &assoc,
                                 sizeof(assoc)))
    return WinError(ErrorKind::kSandboxFailed, "SetInformationJobObject(completion port)");
  return job;
}

Status Job::Assign(HANDLE process) const {
  if (!::AssignProcessToJobObject(job_.get(), process))
    return WinError(ErrorKind::kSandboxFailed, "AssignProcessToJobObject");
  return OkStatus();
}

Status Job::Terminate(UINT exit_code) const {
  if (!::TerminateJobObject(job_.get(), exit_code))
    return WinError(ErrorKind::kInternal, "TerminateJobObject");
  return OkStatus();
}

Result<uint32_t> Job::ActiveProcesses() const {
  JOBOBJECT_BASIC_ACCOUNTING_INFORMATION info{};
  if (!::QueryInformationJobObject(job_.get(), JobObjectBasicAccountingInformation, &info, sizeof(info),
                                   nullptr))
    return WinError(ErrorKind::kInternal, "QueryInformationJobObject(accounting)");
  return static_cast<uint32_t>(info.ActiveProcesses);
}

Result<std::optional<JobEvent>> Job::NextEvent(DWORD timeout_ms) const {
  DWORD message = 0;
  ULONG_PTR key = 0;
  LPOVERLAPPED data = nullptr;
  if (!::GetQueuedCompletionStatus(port_.get(), &message, &key, &data, timeout_ms)) {
    if (::GetLastError() == WAIT_TIMEOUT) return std::optional<JobEvent>();
    return WinError(ErrorKind::kInternal, "GetQueuedCompletionStatus(job)");
  }
  JobEvent ev;
  ev.pid = static_cast<DWORD>(reinterpret_cast<ULONG_PTR>(data));
  switch (message) {
    case JOB_OBJECT_MSG_NEW_PROCESS: ev.kind = JobEventKind::kNewProcess; break;
    case JOB_OBJECT_MSG_EXIT_PROCESS: ev.kind = JobEventKind::kExitProcess; break;
    case JOB_OBJECT_MSG_ABNORMAL_EXIT_PROCESS: ev.kind = JobEventKind::kAbnormalExit; break;
    case JOB_OBJECT_MSG_ACTIVE_PROCESS_ZERO: ev.kind = JobEventKind::kActiveZero; break;
    case JOB_OBJECT_MSG_JOB_MEMORY_LIMIT:
    case JOB_OBJECT_MSG_PROCESS_MEMORY_LIMIT: ev.kind = JobEventKind::kMemoryLimit; break;
    case JOB_OBJECT_MSG_ACTIVE_PROCESS_LIMIT: ev.kind = JobEventKind::kProcessLimit; break;
    default: ev.kind = JobEventKind::kOther; break;
  }
  return std::optional<JobEvent>(ev);
}

}  // namespace cordon::win
