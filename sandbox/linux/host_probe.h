// What this Linux host lets cordon enforce, found by really trying each mechanism once
// (a user namespace is created in a throwaway child, a cgroup directory is made and removed).
// The worker pipeline reads it to pick Landlock's ABI and the Job's kind; sandbox/info and
// `cordon check` print it, each missing piece with the reason in words.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "sandbox/linux/cgroup_host.h"

namespace cordon {

struct HostFeatures {
  std::string kernel_release;  // uname -r

  // 0 = no Landlock (not built, not in the "lsm=" list, or disabled).
  int landlock_abi = 0;
  std::string landlock_reason;

  // An unprivileged-style user namespace works for the current user: a child really did
  // unshare(CLONE_NEWUSER) and wrote its uid/gid maps.
  bool user_namespaces = false;
  std::string user_namespaces_reason;
  // A network namespace can be created inside that user namespace.
  bool network_namespaces = false;
  std::string network_namespaces_reason;

  // seccomp filter mode with SECCOMP_RET_ERRNO is available.
  bool seccomp = false;
  std::string seccomp_reason;
  // Whether this process already runs under a seccomp filter (nested filters still work).
  bool seccomp_already_filtered = false;

  // PR_SET_NO_NEW_PRIVS is supported; `no_new_privs_set` says it is already on for us.
  bool no_new_privs = false;
  bool no_new_privs_set = false;

  CgroupHost cgroup;
};

// Probes the host. Forks a short-lived child; safe to call from a multithreaded process.
HostFeatures ProbeHost();
// ProbeHost() once per process, then the cached value (thread-safe).
const HostFeatures& ProbeHostOnce();

// The `host` object of sandbox/info: the PROTOCOL.md fields (landlockAbi, userNamespaces,
// cgroup, seccomp) plus detail fields (kernel, networkNamespaces, noNewPrivs, cgroupDetail,
// reasons).
nlohmann::json ToJson(const HostFeatures& host);

}  // namespace cordon
