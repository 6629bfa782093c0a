#include "sandbox/linux/mount_plan.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "sandbox/policy.h"
#include "sandbox/unique_fd.h"

namespace cordon::linux_sandbox {
namespace {

// Staging: a tmpfs at the host's /tmp (only in our mount namespace) holds the new root while
// it is assembled; the old root is reachable below kOld until the final pivot drops it.
constexpr const char* kBase = "/tmp";
constexpr const char* kNew = "/newroot";
constexpr const char* kOld = "/oldroot";

Status Fail(const std::string& what, int err) { return ErrnoError(ErrorKind::kSandboxFailed, what, err); }

Status Mount(const char* src, const std::string& target, const char* type, unsigned long flags,
             const char* data = nullptr) {
  if (::mount(src, target.c_str(), type, flags, data) != 0)
    return Fail(std::string("mount ") + (src ? src : "") + " -> " + target, errno);
  return OkStatus();
}

unsigned long FlagsOf(const std::string& path) {
  struct statvfs st {};
  if (::statvfs(path.c_str(), &st) != 0) return 0;
  unsigned long f = 0;
  if (st.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) f |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) f |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) f |= MS_RELATIME;
  if (st.f_flag & ST_RDONLY) f |= MS_RDONLY;
  return f;
}

// Remount one bind mount with extra flags, keeping the flags it already has (a user namespace
// may not clear locked ones).
Status Remount(const std::string& path, unsigned long add, bool writable) {
  unsigned long flags = FlagsOf(path) | add | MS_BIND | MS_REMOUNT;
  if (writable) flags &= ~static_cast<unsigned long>(MS_RDONLY);
  if (::mount(nullptr, path.c_str(), nullptr, flags, nullptr) != 0) return Fail("remount " + path, errno);
  return OkStatus();
}

std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      int v = (s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0');
      out += static_cast<char>(v);
      i += 3;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Mount points at or below `prefix`, shallowest first.
// Read through the host's /proc below kOld: the staging root has no /proc of its own, and a
// silent empty list here would leave every mount writable (fail closed: the caller checks).
Result<std::vector<std::string>> MountsBelow(const std::string& prefix) {
  std::ifstream in(std::string(kOld) + "/proc/self/mountinfo");
  if (!in) return Fail("read mountinfo", errno).error();
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    std::string id, parent, devno, root, point;
    ss >> id >> parent >> devno >> root >> point;
    point = Unescape(point);
    if (PathIsWithin(point, prefix)) out.push_back(point);
  }
  std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
    return std::count(a.begin(), a.end(), '/') < std::count(b.begin(), b.end(), '/');
  });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  // Every caller has just mounted `prefix`: not finding it means we cannot see the mounts.
  if (out.empty() || out.front() != prefix) return Fail("no mount found at " + prefix, ENOENT).error();
  return out;
}

bool IsDir(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool Exists(const std::string& p) {
  struct stat st {};
  return ::lstat(p.c_str(), &st) == 0;
}

Status Touch(const std::string& p, mode_t mode) {
  UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode));
  if (!fd) return Fail("create " + p, errno);
  return OkStatus();
}

Status MakeDir(const std::string& p, mode_t mode) {
  if (::mkdir(p.c_str(), mode) != 0 && errno != EEXIST) return Fail("mkdir " + p, errno);
  return OkStatus();
}

// Creates the mount point of a writable root that lies inside a tmpfs we just mounted.
Status MakeDirs(const std::string& path) {
  if (IsDir(path)) return OkStatus();
  auto slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0)
    if (Status s = MakeDirs(path.substr(0, slash)); !s) return s;
  return MakeDir(path, 0755);
}

Status BindDevice(const std::string& name) {
  std::string src = std::string(kOld) + "/dev/" + name;
  std::string dst = std::string(kNew) + "/dev/" + name;
  if (!Exists(src)) return OkStatus();
  if (Status s = Touch(dst, 0666); !s) return s;
  if (Status s = Mount(src.c_str(), dst, nullptr, MS_BIND); !s) return s;
  return Remount(dst, MS_NOSUID | MS_NOEXEC, /*writable=*/true);
}

Status BuildDev(const MountPlan&) {
  std::string dev = std::string(kNew) + "/dev";
  if (Status s = Mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m"); !s) return s;
  for (const char* name : {"null", "zero", "full", "random", "urandom", "tty"})
    if (Status s = BindDevice(name); !s) return s;
  if (Status s = MakeDir(dev + "/pts", 0755); !s) return s;
  if (Status s = Mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620"); !s) return s;
  if (::symlink("pts/ptmx", (dev + "/ptmx").c_str()) != 0) return Fail("symlink /dev/ptmx", errno);
  if (Status s = MakeDir(dev + "/shm", 01777); !s) return s;
  if (Status s = Mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=64m"); !s) return s;
  const std::pair<const char*, const char*> links[] = {
      {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"}};
  for (auto [target, name] : links)
    if (::symlink(target, (dev + "/" + name).c_str()) != 0) return Fail(std::string("symlink /dev/") + name, errno);
  return Remount(dev, MS_NOSUID | MS_NOEXEC | MS_RDONLY, /*writable=*/false);
}

// Covers a read-denied path: an empty read-only tmpfs over a directory, an empty read-only
// file over anything else.
Status Cover(const std::string& path) {
  std::string target = std::string(kNew) + path;
  struct stat st {};
  if (::lstat(target.c_str(), &st) != 0) return OkStatus();  // nothing to hide
  if (S_ISLNK(st.st_mode)) {
    // A symlink cannot be a mount point; its target was resolved when the policy was built.
    return OkStatus();
  }
  if (S_ISDIR(st.st_mode))
    return Mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=000,size=4k");
  // The staging tmpfs is "/" once the first pivot is done (kBase names it only before).
  std::string empty = "/.cordon-empty";
  if (!Exists(empty))
    if (Status s = Touch(empty, 0000); !s) return s;
  if (Status s = Mount(empty.c_str(), target, nullptr, MS_BIND); !s) return s;
  return Remount(target, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, false);
}

}  // namespace

Status ApplyMountPlan(const MountPlan& plan) {
  // 1. Nothing we do may propagate back to the host.
  if (Status s = Mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE); !s) return s;
  // 2. Staging tmpfs, then pivot into it so the host root sits at /oldroot.
  if (Status s = Mount("tmpfs", kBase, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m"); !s) return s;
  if (::chdir(kBase) != 0) return Fail("chdir staging", errno);
  if (Status s = MakeDir(std::string(kBase) + kNew, 0755); !s) return s;
  if (Status s = MakeDir(std::string(kBase) + kOld, 0755); !s) return s;
  if (::syscall(SYS_pivot_root, kBase, (std::string(kBase) + kOld).c_str()) != 0) return Fail("pivot_root staging", errno);
  if (::chdir("/") != 0) return Fail("chdir /", errno);

  // 3. The whole host tree, recursively, then read-only mount by mount.
  if (Status s = Mount(kOld, kNew, nullptr, MS_BIND | MS_REC); !s) return s;
  if (!plan.full_access) {
    auto points = MountsBelow(kNew);
    if (!points) return points.error();
    for (const auto& point : *points) {
      Status s = Remount(point, MS_RDONLY | MS_NOSUID | MS_NODEV, false);
      // A mount point we cannot even reach (EACCES) stays unreachable for the sandbox too.
      if (!s && !Exists(point)) continue;
      if (!s) return s;
    }
  }
  // 4. Fresh /proc for our PID namespace, minimal /dev, private /tmp, hidden /run.
  // hidepid=2 hides every process the reader may not ptrace-read: the worker and the
  // per-command leaders are non-dumpable, so commands see only themselves and their
  // siblings, never the session's init (its cwd, root, fds or environment). Kernels that
  // refuse the option get a plain /proc; the non-dumpable flag still guards the contents.
  // The exempt group (gid=, default 0) is set to a gid our user namespace does not map (it
  // maps exactly one), so no one is exempt - also not a session running as gid 0.
  if (IsDir(std::string(kNew) + "/proc")) {
    std::string proc = std::string(kNew) + "/proc";
    std::string opts = "hidepid=2,gid=" + std::to_string(static_cast<uint32_t>(::getgid()) + 1);
    if (::mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts.c_str()) != 0)
      if (Status s = Mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC); !s) return s;
  }
  if (Status s = BuildDev(plan); !s) return s;
  bool tmp_writable = std::any_of(plan.writable_roots.begin(), plan.writable_roots.end(),
                                  [](const std::string& r) { return PathIsWithin("/tmp", r); });
  if (!tmp_writable) {
    std::string opts = "mode=1777,size=" + std::to_string(plan.tmp_bytes);
    for (const char* dir : {"/tmp", "/var/tmp"}) {
      if (!IsDir(std::string(kNew) + dir)) continue;
      if (Status s = Mount("tmpfs", std::string(kNew) + dir, "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()); !s) return s;
    }
  }
  if (plan.hide_run && IsDir(std::string(kNew) + "/run")) {
    bool run_writable = std::any_of(plan.writable_roots.begin(), plan.writable_roots.end(),
                                    [](const std::string& r) { return PathIsWithin("/run", r) || PathIsWithin(r, "/run"); });
    if (!run_writable) {
      std::string run = std::string(kNew) + "/run";
      if (Status s = Mount("tmpfs", run, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=1m"); !s) return s;
      std::string resolve = std::string(kOld) + "/run/systemd/resolve";
      if (plan.keep_resolver && IsDir(resolve)) {
        if (Status s = MakeDir(run + "/systemd", 0755); !s) return s;
        if (Status s = MakeDir(run + "/systemd/resolve", 0755); !s) return s;
        if (Status s = Mount(resolve.c_str(), run + "/systemd/resolve", nullptr, MS_BIND); !s) return s;
        if (Status s = Remount(run + "/systemd/resolve", MS_RDONLY | MS_NOSUID | MS_NODEV, false); !s) return s;
      }
      if (Status s = Remount(run, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, false); !s) return s;
    }
  }
  // 5. Writable roots, read-write (after the private /tmp, so a root inside /tmp shows through).
  for (const auto& root : plan.writable_roots) {
    if (root == "/") continue;
    std::string target = std::string(kNew) + root;
    if (Status s = MakeDirs(target); !s) return s;
    if (Status s = Mount((std::string(kOld) + root).c_str(), target, nullptr, MS_BIND | MS_REC); !s) return s;
    auto points = MountsBelow(target);
    if (!points) return points.error();
    for (const auto& point : *points) {
      if (Status s = Remount(point, MS_NOSUID | MS_NODEV, point == target); !s) return s;
    }
  }
  // 6. Protected paths inside them, back to read-only.
  for (const auto& path : plan.protected_paths) {
    std::string target = std::string(kNew) + path;
    if (!Exists(target)) continue;
    struct stat st {};
    if (::lstat(target.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) continue;
    if (Status s = Mount(target.c_str(), target, nullptr, MS_BIND | MS_REC); !s) return s;
    auto points = MountsBelow(target);
    if (!points) return points.error();
    for (const auto& point : *points)
      if (Status s = Remount(point, MS_RDONLY | MS_NOSUID | MS_NODEV, false); !s) return s;
  }
  // 7. Read-denied paths.
  for (const auto& path : plan.read_deny)
    if (Status s = Cover(path); !s) return s;
  // 8. Switch to the new root and drop the old one (and the staging tmpfs) for good.
  if (::chdir(kNew) != 0) return Fail("chdir new root", errno);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return Fail("pivot_root", errno);
  if (::umount2(".", MNT_DETACH) != 0) return Fail("detach old root", errno);
  if (::chdir("/") != 0) return Fail("chdir /", errno);
  return OkStatus();
}

}  // namespace cordon::linux_sandbox
