// Starts a worker process in fresh namespaces (broker side, step 2 of the Linux pipeline).
// The clone happens on one long-lived thread, because the worker's parent-death signal is tied
// to the thread that created it: if the server dies, its workers die. Between clone and exec
// the child runs only raw system calls: it waits for its uid/gid maps and cgroup placement,
// takes its final identity, keeps CAP_SYS_ADMIN (in its own user namespace only) as an ambient
// capability so the exec'd worker can build its mounts, and execs cordon-worker.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "sandbox/status.h"
#include "sandbox/unique_fd.h"

namespace cordon::linux_sandbox {

struct LaunchSpec {
  bool new_network = true;  // network off: a namespace with only loopback
  uid_t inside_uid = 0;     // the uid the worker and its commands run as
  gid_t inside_gid = 0;
  std::string worker_path;  // the cordon-worker binary
  // Called after the child exists and before it may run (e.g. join the session's cgroup).
  std::function<Status(pid_t)> before_start;
};

struct LaunchedWorker {
  pid_t pid = -1;
  UniqueFd pidfd;
  UniqueFd control;  // our end of the SOCK_SEQPACKET control socket
};

Result<LaunchedWorker> LaunchWorker(const LaunchSpec& spec);

// The cordon-worker binary next to the running executable (or $CORDON_WORKER).
std::string DefaultWorkerPath();

}  // namespace cordon::linux_sandbox
