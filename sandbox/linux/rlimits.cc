#include "sandbox/linux/rlimits.h"

#include <sys/resource.h>

#include <cerrno>

namespace cordon {
namespace {

const char* RlimitName(int resource) {
  switch (resource) {
    case RLIMIT_CPU:
      return "setrlimit(RLIMIT_CPU)";
    case RLIMIT_FSIZE:
      return "setrlimit(RLIMIT_FSIZE)";
    case RLIMIT_NOFILE:
      return "setrlimit(RLIMIT_NOFILE)";
    case RLIMIT_CORE:
      return "setrlimit(RLIMIT_CORE)";
    case RLIMIT_AS:
      return "setrlimit(RLIMIT_AS)";
    case RLIMIT_NPROC:
      return "setrlimit(RLIMIT_NPROC)";
    default:
      return "setrlimit";
  }
}

// Lowers `resource` to soft/hard, never above the current hard limit.
Status Lower(int resource, rlim_t soft, rlim_t hard) {
  struct rlimit current {};
  if (getrlimit(resource, &current) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, RlimitName(resource), errno);
  }
  if (current.rlim_max != RLIM_INFINITY) {
    if (hard == RLIM_INFINITY || hard > current.rlim_max) hard = current.rlim_max;
    if (soft == RLIM_INFINITY || soft > current.rlim_max) soft = current.rlim_max;
  }
  if (soft > hard) soft = hard;
  struct rlimit wanted {
    soft, hard
  };
  if (setrlimit(resource, &wanted) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, RlimitName(resource), errno);
  }
  return OkStatus();
}

}  // namespace

Status ApplyCommandRlimits(const ResourceLimits& limits, bool cgroup_enforces_memory_and_pids) {
  if (limits.cpu_seconds > 0) {
    // The soft limit sends SIGXCPU (catchable); the hard limit one second on is SIGKILL.
    if (Status s = Lower(RLIMIT_CPU, limits.cpu_seconds, limits.cpu_seconds + 1ull); !s) return s;
  }
  if (limits.max_file_bytes > 0) {
    if (Status s = Lower(RLIMIT_FSIZE, limits.max_file_bytes, limits.max_file_bytes); !s) return s;
  }
  if (limits.max_open_files > 0) {
    if (Status s = Lower(RLIMIT_NOFILE, limits.max_open_files, limits.max_open_files); !s) {
      return s;
    }
  }
  if (Status s = Lower(RLIMIT_CORE, 0, 0); !s) return s;
  if (cgroup_enforces_memory_and_pids) return OkStatus();
  if (limits.memory_bytes > 0) {
    // Address space, not resident memory: runtimes that reserve large heaps (JVM, V8, ASan)
    // may fail below it. The cgroup limit is the real answer.
    if (Status s = Lower(RLIMIT_AS, limits.memory_bytes, limits.memory_bytes); !s) return s;
  }
  if (limits.max_processes > 0) {
    if (Status s = Lower(RLIMIT_NPROC, limits.max_processes, limits.max_processes); !s) return s;
  }
  return OkStatus();
}

std::vector<std::string> RlimitDegradations(const ResourceLimits& limits,
                                            bool cgroup_enforces_memory_and_pids) {
  std::vector<std::string> out;
  if (cgroup_enforces_memory_and_pids) return out;
  if (limits.memory_bytes > 0) {
    out.push_back("no delegated cgroup: memory limit is per process (RLIMIT_AS, address space)");
  }
  if (limits.max_processes > 0) {
    out.push_back(
        "no delegated cgroup: process limit is per uid (RLIMIT_NPROC counts every process of "
        "the user, not only this session's)");
  }
  return out;
}

}  // namespace cordon
