// Where this process may create cgroups: the cgroup v2 mount (pure or the controller-less
// "unified" mount of a hybrid host) and the writable v1 hierarchies, each resolved to our own
// cgroup so that session cgroups are always created below the cgroup we were started in.
// host_probe reports it; CgroupJob builds session cgroups from it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "sandbox/status.h"

namespace cordon {

struct CgroupHost {
  // cgroup v2. `v2_base` is the directory of our own cgroup (mount + /proc/self/cgroup "0::"
  // path); empty when there is no cgroup2 mount. `v2_writable` means a child can be created
  // there (a probe directory was really made and removed).
  std::string v2_mount;
  std::string v2_base;
  bool v2_writable = false;
  // Controllers listed in v2_base/cgroup.controllers, i.e. the ones our parent delegated.
  std::vector<std::string> v2_controllers;
  // v1 hierarchies (memory, pids, cpu, freezer) where we can create a child of our own cgroup:
  // controller -> directory of our own cgroup in that hierarchy.
  std::map<std::string, std::string> v1_bases;
  // Why each missing piece is missing, in words for `cordon check` ("" when all is there).
  std::string reason;

  bool V2Has(const std::string& controller) const;
  // A cgroup2 mount we can write but whose memory/pids controllers are held by v1.
  bool Hybrid() const;
  // "v2" (v2 memory+pids usable), "v1" (v1 memory+pids writable) or "none": which cgroup
  // version enforces limits, as sandbox/info reports it.
  std::string Version() const;
};

// Reads /proc/self/cgroup and /proc/self/mountinfo and test-creates a directory in each
// candidate. Cheap enough to call once per process; host_probe caches it.
CgroupHost ProbeCgroups();

// Small helpers for cgroupfs files, shared with CgroupJob.
Result<std::string> ReadSmallFile(const std::string& path);
Status WriteSmallFile(const std::string& path, const std::string& value);
// The number after `key` in a "key value" per line file (memory.events, memory.oom_control).
uint64_t ReadKeyedCounter(const std::string& path, const std::string& key);

}  // namespace cordon
