#include "sandbox/linux/cgroup_job.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <sstream>
#include <thread>

namespace cordon {
namespace {

// How long KillAll waits for killed processes to leave the cgroup. SIGKILL cannot be blocked,
// but exiting a process with a large address space or stuck in uninterruptible I/O takes time.
constexpr auto kKillTimeout = std::chrono::seconds(10);

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

Status MakeDir(const std::string& dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    return ErrnoError(ErrorKind::kInternal, "mkdir " + dir, errno);
  }
  return OkStatus();
}

// rmdir a cgroup and any child cgroups a delegated worker may have created inside it.
Status RemoveTree(const std::string& dir) {
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> children;
    while (dirent* e = readdir(d)) {
      std::string entry = e->d_name;
      if (e->d_type == DT_DIR && entry != "." && entry != "..") children.push_back(entry);
    }
    closedir(d);
    for (const std::string& child : children) {
      if (Status s = RemoveTree(dir + "/" + child); !s) return s;
    }
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    return ErrnoError(ErrorKind::kInternal, "rmdir " + dir, errno);
  }
  return OkStatus();
}

std::vector<pid_t> ReadPids(const std::string& dir) {
  std::vector<pid_t> pids;
  Result<std::string> text = ReadSmallFile(dir + "/cgroup.procs");
  if (!text) return pids;
  std::istringstream in(*text);
  pid_t pid;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

// Enables the controllers we need for children of `base`. cgroup v2 forbids processes in a
// cgroup whose children have controllers (except at the root), so when this process sits in
// `base` itself it first moves into a leaf "cordon-server" next to the session cgroups. If
// other processes share `base`, enabling still fails and the caller falls back.
Status EnableV2Controllers(const std::string& base, const std::string& wanted) {
  const std::string control = base + "/cgroup.subtree_control";
  if (WriteSmallFile(control, wanted).ok()) return OkStatus();
  const std::string leaf = base + "/cordon-server";
  if (Status s = MakeDir(leaf); !s) return s;
  if (Status s = WriteSmallFile(leaf + "/cgroup.procs", std::to_string(getpid())); !s) return s;
  return WriteSmallFile(control, wanted);
}

}  // namespace

const char* JobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kCgroupV2:
      return "cgroup-v2";
    case JobKind::kCgroupV1Hybrid:
      return "cgroup-v1-hybrid";
    case JobKind::kCgroupV1:
      return "cgroup-v1";
    case JobKind::kTrackingOnly:
      return "cgroup-v2-tracking";
    case JobKind::kNone:
      return "none";
  }
  return "none";
}

Result<std::unique_ptr<CgroupJob>> CgroupJob::Create(const std::string& name,
                                                     const JobLimits& limits,
                                                     const CgroupHost& host) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
    return MakeError(ErrorKind::kInvalidArgument, "bad cgroup name: " + name);
  }
  std::unique_ptr<CgroupJob> job(new CgroupJob());
  std::vector<std::string> why;

  if (host.V2Has("memory") && host.V2Has("pids")) {
    Status s = job->SetUpV2(host, name, limits);
    if (s.ok()) return job;
    why.push_back("cgroup v2: " + s.error().detail);
    if (Status r = job->Remove(); !r) return r.error();
    job.reset(new CgroupJob());
  }
  if (host.v1_bases.count("memory") || host.v1_bases.count("pids")) {
    Status s = job->SetUpV1(host, name, limits);
    if (s.ok()) return job;
    why.push_back("cgroup v1: " + s.error().detail);
    if (Status r = job->Remove(); !r) return r.error();
    job.reset(new CgroupJob());
  }
  // Tracking only: a cgroup2 directory without controllers still lists and kills the tree.
  if (host.v2_writable) {
    std::string dir = host.v2_base + "/" + name;
    if (Status s = MakeDir(dir); s.ok()) {
      job->v2_dir_ = dir;
      job->kind_ = JobKind::kTrackingOnly;
    } else {
      why.push_back("cgroup2 tracking: " + s.error().detail);
    }
  }
  std::string reason =
      job->kind_ == JobKind::kTrackingOnly
          ? "no delegated memory/pids controllers (cgroup2 only tracks and kills the tree): "
            "memory limit is per process, process limit is per uid"
          : "no delegated cgroup: memory limit is per process, process limit is per uid, and "
            "the tree is killed through the worker's PID namespace";
  if (!host.reason.empty()) reason += " (" + host.reason + ")";
  for (const std::string& w : why) reason += "; " + w;
  job->degraded_reason_ = reason;
  return job;
}

Status CgroupJob::SetUpV2(const CgroupHost& host, const std::string& name,
                          const JobLimits& limits) {
  const bool cpu = limits.cpu_millicores > 0 && host.V2Has("cpu");
  if (Status s = EnableV2Controllers(host.v2_base, cpu ? "+memory +pids +cpu" : "+memory +pids");
      !s) {
    return s;
  }
  v2_dir_ = host.v2_base + "/" + name;
  if (Status s = MakeDir(v2_dir_); !s) return s;
  if (limits.memory_bytes > 0) {
    if (Status s = WriteSmallFile(v2_dir_ + "/memory.max", std::to_string(limits.memory_bytes));
        !s) {
      return s;
    }
    // Swap would let a session hold memory_bytes in RAM plus as much again on disk.
    if (Exists(v2_dir_ + "/memory.swap.max")) {
      if (Status s = WriteSmallFile(v2_dir_ + "/memory.swap.max", "0"); !s) return s;
    }
  }
  if (limits.max_pids > 0) {
    if (Status s = WriteSmallFile(v2_dir_ + "/pids.max", std::to_string(limits.max_pids)); !s) {
      return s;
    }
  }
  if (cpu) {
    std::string quota = std::to_string(uint64_t{limits.cpu_millicores} * 100) + " 100000";
    if (Status s = WriteSmallFile(v2_dir_ + "/cpu.max", quota); !s) return s;
  }
  kind_ = JobKind::kCgroupV2;
  v2_memory_ = true;
  enforces_memory_ = true;
  enforces_pids_ = true;
  if (limits.cpu_millicores > 0 && !cpu) degraded_reason_ = "cpu controller not delegated";
  return OkStatus();
}

Status CgroupJob::SetUpV1(const CgroupHost& host, const std::string& name,
                          const JobLimits& limits) {
  std::vector<std::string> gaps;
  auto make = [&](const char* controller) -> Status {
    auto base = host.v1_bases.find(controller);
    if (base == host.v1_bases.end()) return OkStatus();
    std::string dir = base->second + "/" + name;
    if (Status s = MakeDir(dir); !s) return s;
    v1_dirs_[controller] = dir;
    return OkStatus();
  };
  for (const char* controller : {"memory", "pids"}) {
    if (Status s = make(controller); !s) return s;
  }
  if (auto it = v1_dirs_.find("memory"); it != v1_dirs_.end()) {
    if (limits.memory_bytes > 0) {
      std::string bytes = std::to_string(limits.memory_bytes);
      if (Status s = WriteSmallFile(it->second + "/memory.limit_in_bytes", bytes); !s) return s;
      // memory+swap equal to memory: no swap. Absent when swap accounting is off.
      if (Exists(it->second + "/memory.memsw.limit_in_bytes")) {
        if (Status s = WriteSmallFile(it->second + "/memory.memsw.limit_in_bytes", bytes); !s) {
          return s;
        }
      }
    }
    enforces_memory_ = true;
  } else {
    gaps.push_back("no v1 memory controller: memory limit is per process");
  }
  if (auto it = v1_dirs_.find("pids"); it != v1_dirs_.end()) {
    if (limits.max_pids > 0) {
      if (Status s = WriteSmallFile(it->second + "/pids.max", std::to_string(limits.max_pids));
          !s) {
        return s;
      }
    }
    enforces_pids_ = true;
  } else {
    gaps.push_back("no v1 pids controller: process limit is per uid");
  }
  if (limits.cpu_millicores > 0) {
    if (host.v1_bases.count("cpu") == 0) {
      gaps.push_back("no v1 cpu controller: no session cpu limit");
    } else {
      if (Status s = make("cpu"); !s) return s;
      const std::string& dir = v1_dirs_["cpu"];
      if (Status s = WriteSmallFile(dir + "/cpu.cfs_period_us", "100000"); !s) return s;
      std::string quota = std::to_string(uint64_t{limits.cpu_millicores} * 100);
      if (Status s = WriteSmallFile(dir + "/cpu.cfs_quota_us", quota); !s) return s;
    }
  }
  if (host.v2_writable) {
    // Hybrid: the controller-less cgroup2 gives cgroup.kill and a reliable process list.
    v2_dir_ = host.v2_base + "/" + name;
    if (Status s = MakeDir(v2_dir_); !s) return s;
    kind_ = JobKind::kCgroupV1Hybrid;
  } else {
    if (Status s = make("freezer"); !s) return s;
    kind_ = JobKind::kCgroupV1;
  }
  for (size_t i = 0; i < gaps.size(); ++i) degraded_reason_ += (i ? "; " : "") + gaps[i];
  return OkStatus();
}

CgroupJob::~CgroupJob() {
  (void)KillAll();
  (void)Remove();
}

Status CgroupJob::AddProcess(pid_t pid) {
  const std::string text = std::to_string(pid);
  // The cgroup2 directory first: once there, cgroup.kill reaches the process.
  if (!v2_dir_.empty()) {
    if (Status s = WriteSmallFile(v2_dir_ + "/cgroup.procs", text); !s) return s;
  }
  for (const auto& [controller, dir] : v1_dirs_) {
    if (Status s = WriteSmallFile(dir + "/cgroup.procs", text); !s) return s;
  }
  return OkStatus();
}

std::string CgroupJob::ProcsDir() const {
  if (!v2_dir_.empty()) return v2_dir_;
  for (const char* controller : {"pids", "memory", "freezer", "cpu"}) {
    if (auto it = v1_dirs_.find(controller); it != v1_dirs_.end()) return it->second;
  }
  return "";
}

std::vector<pid_t> CgroupJob::Pids() const {
  std::string dir = ProcsDir();
  return dir.empty() ? std::vector<pid_t>{} : ReadPids(dir);
}

Status CgroupJob::KillAll() {
  if (!v2_dir_.empty() && Exists(v2_dir_ + "/cgroup.kill")) {
    // Kills every process in the subtree atomically with respect to fork: nothing escapes.
    if (Status s = WriteSmallFile(v2_dir_ + "/cgroup.kill", "1"); !s) return s;
    return WaitEmpty(v2_dir_);
  }
  if (ProcsDir().empty()) return OkStatus();
  return SweepKill();
}

// Without cgroup.kill (v1, or cgroup2 before Linux 5.14): freeze so nothing forks between
// reading cgroup.procs and the kills, SIGKILL every pid, thaw so the kills take effect, and
// repeat until empty. A pid read here may in principle have exited and been reused between
// the read and the kill; freezing makes that window tiny, and cgroup.kill has none.
Status CgroupJob::SweepKill() {
  const std::string dir = ProcsDir();
  std::string freeze_file;
  std::string frozen, thawed;
  if (!v2_dir_.empty() && Exists(v2_dir_ + "/cgroup.freeze")) {
    freeze_file = v2_dir_ + "/cgroup.freeze";
    frozen = "1";
    thawed = "0";
  } else if (auto it = v1_dirs_.find("freezer"); it != v1_dirs_.end()) {
    freeze_file = it->second + "/freezer.state";
    frozen = "FROZEN";
    thawed = "THAWED";
  }
  const auto deadline = std::chrono::steady_clock::now() + kKillTimeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::vector<pid_t> pids = ReadPids(dir);
    if (pids.empty()) return OkStatus();
    if (!freeze_file.empty()) (void)WriteSmallFile(freeze_file, frozen);
    for (pid_t pid : ReadPids(dir)) kill(pid, SIGKILL);
    if (!freeze_file.empty()) (void)WriteSmallFile(freeze_file, thawed);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return MakeError(ErrorKind::kInternal, "processes left in " + dir + " after SIGKILL sweeps");
}

Status CgroupJob::WaitEmpty(const std::string& dir) {
  const auto deadline = std::chrono::steady_clock::now() + kKillTimeout;
  auto pause = std::chrono::microseconds(200);
  while (!ReadPids(dir).empty()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return MakeError(ErrorKind::kInternal, "processes left in " + dir + " after cgroup.kill");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  return OkStatus();
}

uint64_t CgroupJob::OomKillCount() const {
  if (v2_memory_) return ReadKeyedCounter(v2_dir_ + "/memory.events", "oom_kill");
  if (auto it = v1_dirs_.find("memory"); it != v1_dirs_.end()) {
    return ReadKeyedCounter(it->second + "/memory.oom_control", "oom_kill");
  }
  return 0;
}

uint64_t CgroupJob::PeakMemory() const {
  std::string file;
  if (v2_memory_) {
    file = v2_dir_ + "/memory.peak";
  } else if (auto it = v1_dirs_.find("memory"); it != v1_dirs_.end()) {
    file = it->second + "/memory.max_usage_in_bytes";
  } else {
    return 0;
  }
  Result<std::string> text = ReadSmallFile(file);
  if (!text) return 0;
  try {
    return std::stoull(*text);
  } catch (...) {
    return 0;
  }
}

Status CgroupJob::Remove() {
  if (!v2_dir_.empty()) {
    if (Status s = RemoveTree(v2_dir_); !s) return s;
    v2_dir_.clear();
  }
  for (auto it = v1_dirs_.begin(); it != v1_dirs_.end();) {
    if (Status s = RemoveTree(it->second); !s) return s;
    it = v1_dirs_.erase(it);
  }
  return OkStatus();
}

}  // namespace cordon
