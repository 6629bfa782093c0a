// The first message the broker sends a new worker: everything the worker needs to confine
// itself, computed by the broker (which has the host probe and libseccomp), applied by the
// worker without further decisions.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/linux/landlock.h"
#include "sandbox/linux/mount_plan.h"
#include "sandbox/policy.h"

namespace cordon::linux_sandbox {

struct WorkerInit {
  nlohmann::json policy;  // PolicyToJson
  MountPlan mounts;
  bool use_mounts = true;
  LandlockRules landlock;
  int landlock_abi = 0;
  std::vector<sock_filter> worker_filter;
  std::vector<sock_filter> command_filter;
  bool cgroup_enforces_limits = false;
  std::string hostname = "cordon";
};

nlohmann::json ToJson(const WorkerInit& init);
Result<WorkerInit> WorkerInitFromJson(const nlohmann::json& json);

}  // namespace cordon::linux_sandbox
