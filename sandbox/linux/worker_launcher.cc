#include "sandbox/linux/worker_launcher.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "sandbox/linux/ipc.h"

namespace cordon::linux_sandbox {
namespace {

// Runs tasks on one thread that lives as long as the process.
class LauncherThread {
 public:
  static LauncherThread& Get() {
    static LauncherThread* t = new LauncherThread();  // never destroyed: workers depend on it
    return *t;
  }
  template <class F>
  auto Run(F fn) -> decltype(fn()) {
    std::packaged_task<decltype(fn())()> task(std::move(fn));
    auto fut = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.emplace_back([&task] { task(); });
    }
    cv_.notify_one();
    return fut.get();
  }

 private:
  LauncherThread() {
    std::thread([this] {
      for (;;) {
        std::function<void()> job;
        {
          std::unique_lock<std::mutex> lock(mu_);
          cv_.wait(lock, [this] { return !queue_.empty(); });
          job = std::move(queue_.front());
          queue_.pop_front();
        }
        job();
      }
    }).detach();
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
};

Status WriteProcFile(pid_t pid, const char* name, const std::string& value) {
  std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return ErrnoError(ErrorKind::kSandboxFailed, "open " + path, errno);
  if (::write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size()))
    return ErrnoError(ErrorKind::kSandboxFailed, "write " + path, errno);
  return OkStatus();
}

// Everything the child needs, prepared before clone so the child allocates nothing.
struct ChildPlan {
  int sync_fd;
  int control_fd;
  int devnull_fd;
  bool set_ids;
  uid_t uid;
  gid_t gid;
  const char* path;
  char* const* argv;
  char* const* envp;
};

[[noreturn]] void ChildMain(const ChildPlan& p) {
  // Die with the launcher thread (the server), whatever happens later.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  char go = 0;
  if (::read(p.sync_fd, &go, 1) != 1 || go != 'g') ::_exit(120);
  if (p.set_ids) {
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) ::_exit(121);
    if (::syscall(SYS_setresgid, p.gid, p.gid, p.gid) != 0) ::_exit(121);
    if (::prctl(PR_SET_KEEPCAPS, 1) != 0) ::_exit(121);
    if (::syscall(SYS_setresuid, p.uid, p.uid, p.uid) != 0) ::_exit(121);
  }
  // Keep CAP_SYS_ADMIN of the new user namespace across exec: the worker needs it to mount. And
  // CAP_SETPCAP where we hold it, so each command's leader can empty its bounding set.
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  data[0].effective = data[0].permitted = data[0].inheritable = (1u << CAP_SYS_ADMIN) | (1u << CAP_SETPCAP);
  bool setpcap = ::syscall(SYS_capset, &hdr, data) == 0;
  if (!setpcap) {
    data[0].effective = data[0].permitted = data[0].inheritable = 1u << CAP_SYS_ADMIN;
    if (::syscall(SYS_capset, &hdr, data) != 0) ::_exit(122);
  }
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) != 0) ::_exit(122);
  if (setpcap) (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SETPCAP, 0, 0);
  // A clean signal state: the server blocks SIGTERM and friends on its threads.
  sigset_t none;
  std::memset(&none, 0, sizeof(none));
  ::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, 8);
  if (::dup2(p.devnull_fd, 0) < 0 || ::dup2(p.devnull_fd, 1) < 0) ::_exit(123);
  if (::dup2(p.control_fd, 3) < 0) ::_exit(123);
  ::syscall(SYS_close_range, 4, ~0U, 0);
  ::execve(p.path, p.argv, p.envp);
  ::_exit(127);
}

Result<LaunchedWorker> LaunchOnThread(const LaunchSpec& spec) {
  UniqueFd ours, theirs;
  if (Status s = MakeSocketPair(&ours, &theirs); !s) return s.error();
  int sync[2];
  if (::pipe2(sync, O_CLOEXEC) != 0) return ErrnoError(ErrorKind::kSandboxFailed, "pipe", errno);
  UniqueFd sync_read(sync[0]), sync_write(sync[1]);
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!devnull) return ErrnoError(ErrorKind::kSandboxFailed, "open /dev/null", errno);

  uid_t outer_uid = ::geteuid();
  gid_t outer_gid = ::getegid();
  bool privileged = outer_uid == 0;
  std::string arg0 = "cordon-worker";
  char* argv[] = {arg0.data(), nullptr};
  char* envp[] = {nullptr};
  ChildPlan plan{sync_read.get(), theirs.get(), devnull.get(),
                 privileged && spec.inside_uid != 0, spec.inside_uid, spec.inside_gid,
                 spec.worker_path.c_str(), argv, envp};

  unsigned long flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (spec.new_network) flags |= CLONE_NEWNET;
  long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) {
    int err = errno;
    return MakeError(ErrorKind::kSandboxFailed,
                     std::string("cannot create the sandbox namespaces (clone: ") + std::strerror(err) +
                         "); unprivileged user namespaces may be disabled on this host: see `cordon check`");
  }
  if (pid == 0) ChildMain(plan);

  LaunchedWorker w;
  w.pid = static_cast<pid_t>(pid);
  w.pidfd.reset(static_cast<int>(::syscall(SYS_pidfd_open, w.pid, 0)));
  auto abort_child = [&](const Error& e) -> Result<LaunchedWorker> {
    ::kill(w.pid, SIGKILL);
    int st;
    while (::waitpid(w.pid, &st, 0) < 0 && errno == EINTR) {}
    return e;
  };
  // Map exactly one uid and gid: the identity the sandbox runs as, same number inside.
  uid_t map_uid = privileged ? spec.inside_uid : outer_uid;
  gid_t map_gid = privileged ? spec.inside_gid : outer_gid;
  if (!privileged) {
    if (Status s = WriteProcFile(w.pid, "setgroups", "deny"); !s) return abort_child(s.error());
  }
  std::string uid_line = std::to_string(map_uid) + " " + std::to_string(privileged ? spec.inside_uid : outer_uid) + " 1\n";
  std::string gid_line = std::to_string(map_gid) + " " + std::to_string(privileged ? spec.inside_gid : outer_gid) + " 1\n";
  if (Status s = WriteProcFile(w.pid, "uid_map", uid_line); !s) return abort_child(s.error());
  if (Status s = WriteProcFile(w.pid, "gid_map", gid_line); !s) return abort_child(s.error());
  if (spec.before_start) {
    if (Status s = spec.before_start(w.pid); !s) return abort_child(s.error());
  }
  char go = 'g';
  if (::write(sync_write.get(), &go, 1) != 1) return abort_child(ErrnoError(ErrorKind::kSandboxFailed, "start worker", errno));
  w.control = std::move(ours);
  return w;
}

}  // namespace

Result<LaunchedWorker> LaunchWorker(const LaunchSpec& spec) {
  return LauncherThread::Get().Run([&spec] { return LaunchOnThread(spec); });
}

std::string DefaultWorkerPath() {
  if (const char* env = std::getenv("CORDON_WORKER"); env && *env) return env;
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "cordon-worker";
  std::string self(buf, static_cast<size_t>(n));
  auto slash = self.rfind('/');
  return self.substr(0, slash + 1) + "cordon-worker";
}

}  // namespace cordon::linux_sandbox
