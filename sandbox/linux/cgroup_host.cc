#include "sandbox/linux/cgroup_host.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sandbox/unique_fd.h"

namespace cordon {
namespace {

// The v1 controllers a session job can use: limits (memory, pids, cpu) and the freezer that
// makes a kill sweep race-free when there is no cgroup.kill.
constexpr const char* kV1Controllers[] = {"memory", "pids", "cpu", "freezer"};

std::vector<std::string> Split(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::string item;
  std::istringstream in(text);
  while (std::getline(in, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size()) {
      int value = 0;
      bool octal = true;
      for (size_t j = 1; j <= 3; ++j) {
        char c = text[i + j];
        if (c < '0' || c > '7') octal = false;
        value = value * 8 + (c - '0');
      }
      if (octal) {
        out.push_back(static_cast<char>(value));
        i += 3;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

struct CgroupMount {
  std::string root;                      // the cgroup path that is mounted (usually "/")
  std::string mount_point;               // where it is mounted
  std::vector<std::string> controllers;  // v1 only
};

struct MountTable {
  std::vector<CgroupMount> v1;
  std::vector<CgroupMount> v2;
};

MountTable ReadCgroupMounts() {
  MountTable table;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::vector<std::string> head = Split(line.substr(0, dash), ' ');
    std::vector<std::string> tail = Split(line.substr(dash + 3), ' ');
    if (head.size() < 5 || tail.size() < 3) continue;
    CgroupMount mount{Unescape(head[3]), Unescape(head[4]), {}};
    if (tail[0] == "cgroup2") {
      table.v2.push_back(mount);
    } else if (tail[0] == "cgroup") {
      mount.controllers = Split(tail[2], ',');
      table.v1.push_back(mount);
    }
  }
  return table;
}

// /proc/self/cgroup: "0::/path" for v2, "4:memory:/path" or "2:cpu,cpuacct:/path" for v1.
std::map<std::string, std::string> ReadSelfCgroups() {
  std::map<std::string, std::string> paths;  // "" (v2) or controller -> path
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    size_t first = line.find(':');
    size_t second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    std::string controllers = line.substr(first + 1, second - first - 1);
    std::string path = line.substr(second + 1);
    if (controllers.empty()) {
      paths[""] = path;
      continue;
    }
    for (const std::string& c : Split(controllers, ',')) paths[c] = path;
  }
  return paths;
}

// Our cgroup's directory under `mount`, or "" when our cgroup is not visible through it
// (a bind mount of some other subtree).
std::string BaseUnder(const CgroupMount& mount, const std::string& self_path) {
  std::string root = mount.root == "/" ? "" : mount.root;
  if (self_path.compare(0, root.size(), root) != 0) return "";
  std::string rel = self_path.substr(root.size());
  if (!rel.empty() && rel[0] != '/') return "";
  if (rel == "/") rel.clear();
  return mount.mount_point + rel;
}

// Really creates and removes a child cgroup: access(2) cannot see cgroupfs delegation rules,
// read-only bind mounts seen through a container runtime, or LSM denials.
Status ProbeMkdir(const std::string& dir) {
  static std::atomic<int> counter{0};
  std::string probe = dir + "/cordon-probe-" + std::to_string(getpid()) + "-" +
                      std::to_string(counter.fetch_add(1));
  if (mkdir(probe.c_str(), 0755) != 0) return ErrnoError(ErrorKind::kUnsupported, dir, errno);
  rmdir(probe.c_str());
  return OkStatus();
}

}  // namespace

bool CgroupHost::V2Has(const std::string& controller) const {
  if (!v2_writable) return false;
  for (const std::string& c : v2_controllers) {
    if (c == controller) return true;
  }
  return false;
}

bool CgroupHost::Hybrid() const {
  return v2_writable && !V2Has("memory") && v1_bases.count("memory") > 0;
}

std::string CgroupHost::Version() const {
  if (V2Has("memory") && V2Has("pids")) return "v2";
  if (v1_bases.count("memory") > 0 && v1_bases.count("pids") > 0) return "v1";
  return "none";
}

CgroupHost ProbeCgroups() {
  CgroupHost host;
  std::vector<std::string> missing;
  MountTable mounts = ReadCgroupMounts();
  std::map<std::string, std::string> self = ReadSelfCgroups();

  if (mounts.v2.empty()) {
    missing.push_back("no cgroup2 mount");
  } else if (self.count("") == 0) {
    missing.push_back("this process has no cgroup2 path in /proc/self/cgroup");
  } else {
    for (const CgroupMount& mount : mounts.v2) {
      std::string base = BaseUnder(mount, self[""]);
      if (base.empty()) continue;
      host.v2_mount = mount.mount_point;
      host.v2_base = base;
      break;
    }
    if (host.v2_base.empty()) {
      missing.push_back("our cgroup2 path is not visible under any cgroup2 mount");
    } else if (Status made = ProbeMkdir(host.v2_base); !made.ok()) {
      missing.push_back("cgroup2 " + made.error().detail + " is not writable (not delegated)");
    } else {
      host.v2_writable = true;
      if (Result<std::string> text = ReadSmallFile(host.v2_base + "/cgroup.controllers"); text) {
        std::istringstream in(*text);
        std::string c;
        while (in >> c) host.v2_controllers.push_back(c);
      }
    }
  }

  for (const char* controller : kV1Controllers) {
    if (self.count(controller) == 0) continue;
    for (const CgroupMount& mount : mounts.v1) {
      bool has = false;
      for (const std::string& c : mount.controllers) has = has || c == controller;
      if (!has) continue;
      std::string base = BaseUnder(mount, self[controller]);
      if (base.empty()) continue;
      if (Status made = ProbeMkdir(base); made.ok()) {
        host.v1_bases[controller] = base;
      } else if (std::string(controller) == "memory" || std::string(controller) == "pids") {
        missing.push_back("cgroup v1 " + made.error().detail + " is not writable");
      }
      break;
    }
  }

  if (host.v2_writable && !host.V2Has("memory") && host.v1_bases.count("memory") == 0) {
    missing.push_back("memory controller not delegated to " + host.v2_base);
  }
  if (host.v2_writable && !host.V2Has("pids") && host.v1_bases.count("pids") == 0) {
    missing.push_back("pids controller not delegated to " + host.v2_base);
  }
  for (size_t i = 0; i < missing.size(); ++i) {
    host.reason += (i ? "; " : "") + missing[i];
  }
  return host;
}

Result<std::string> ReadSmallFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(ErrorKind::kInternal, "open " + path, errno);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError(ErrorKind::kInternal, "read " + path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status WriteSmallFile(const std::string& path, const std::string& value) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(ErrorKind::kInternal, "open " + path, errno);
  // cgroupfs takes one value per write(2); a short write would be a partial value.
  ssize_t n;
  do {
    n = write(fd.get(), value.data(), value.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return ErrnoError(ErrorKind::kInternal, "write " + path + " <- " + value, errno);
  if (static_cast<size_t>(n) != value.size()) {
    return MakeError(ErrorKind::kInternal, "short write to " + path);
  }
  return OkStatus();
}

uint64_t ReadKeyedCounter(const std::string& path, const std::string& key) {
  Result<std::string> text = ReadSmallFile(path);
  if (!text) return 0;
  std::istringstream in(*text);
  std::string name;
  uint64_t value = 0;
  while (in >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

}  // namespace cordon
