// cordon-escape-probe ACTION [ARGS...]: attempts one action and exits 0 (SUCCEEDED), 1 (DENIED)
// or 2 (probe error, errno on stderr). This file holds main and the filesystem, process and
// resource actions; probe_kernel.cc the network, IPC, terminal and syscall-surface ones.
#include "tests/escape/probe.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace cordon::escape_probe {

bool IsDenialErrno(int err) {
  switch (err) {
    case EPERM: case EACCES: case EROFS: case ENOENT: case ENOTDIR: case ELOOP: case EXDEV:
    case ENOSPC: case EFBIG: case EDQUOT: case EAGAIN: case ENOMEM: case ENOSYS:
    case ECONNREFUSED: case ENETUNREACH: case EHOSTUNREACH: case ESRCH: case ENXIO:
    case ENODEV:
      return true;
    default:
      return false;
  }
}

Outcome Failed(const char* what, int err) {
  std::fprintf(stderr, "probe: %s: %s (errno %d)\n", what, std::strerror(err), err);
  return IsDenialErrno(err) ? kDenied : kProbeError;
}

namespace {

Outcome WriteFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Failed(("open " + path).c_str(), errno);
  ssize_t n = ::write(fd, "escaped\n", 8);
  int err = errno;
  ::close(fd);
  if (n != 8) return Failed(("write " + path).c_str(), err);
  return kSucceeded;
}

// Succeeds only if the file's content contains `expect`: an empty cover file over a secret
// must not count as reading it.
Outcome ReadFile(const std::string& path, const std::string& expect) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Failed(("open " + path).c_str(), errno);
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof(buf));
  int err = errno;
  ::close(fd);
  if (n < 0) return Failed(("read " + path).c_str(), err);
  if (std::string(buf, static_cast<size_t>(n)).find(expect) == std::string::npos) {
    std::fprintf(stderr, "probe: %s readable but does not hold the secret\n", path.c_str());
    return kDenied;
  }
  return kSucceeded;
}

// Lists fds above 2 (other than the one reading /proc/self/fd). With `dev:ino`, succeeds only
// if one of them (or 0-2) is that very file.
Outcome OpenFds(const Args& args) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return Failed("opendir /proc/self/fd", errno);
  int self = ::dirfd(d);
  bool found = false;
  std::string want = args.empty() ? "" : args[0];
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = std::atoi(e->d_name);
    if (fd == self) continue;
    struct stat st {};
    if (::fstat(fd, &st) != 0) continue;
    std::string id = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    if (want.empty() && fd > 2) {
      std::fprintf(stderr, "probe: inherited fd %d (%s)\n", fd, id.c_str());
      found = true;
    }
    if (!want.empty() && id == want) {
      std::fprintf(stderr, "probe: fd %d is the target file\n", fd);
      found = true;
    }
  }
  ::closedir(d);
  return found ? kSucceeded : kDenied;
}

// Forks up to `n` children that pause; DENIED as soon as a fork is refused.
Outcome ForkMany(long n) {
  std::vector<pid_t> kids;
  Outcome out = kSucceeded;
  for (long i = 0; i < n; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      for (;;) ::pause();
    }
    if (p < 0) {
      std::fprintf(stderr, "probe: fork %ld refused: %s\n", i, std::strerror(errno));
      out = (errno == EAGAIN || errno == ENOMEM) ? kDenied : kProbeError;
      break;
    }
    kids.push_back(p);
  }
  for (pid_t p : kids) ::kill(p, SIGKILL);
  for (pid_t p : kids) ::waitpid(p, nullptr, 0);
  return out;
}

// Touches every page of `mb` MiB. DENIED if the allocation is refused; an OOM kill ends the
// probe by signal, which the driver reads as DENIED.
Outcome Allocate(long mb) {
  size_t size = static_cast<size_t>(mb) << 20;
  // volatile: the compiler may not elide the allocation and its stores.
  char* volatile p = static_cast<char*>(std::malloc(size));
  if (!p) return Failed("malloc", ENOMEM);
  for (size_t off = 0; off < size; off += 4096) p[off] = 1;
  std::fprintf(stderr, "probe: touched %ld MiB\n", mb);
  std::free(p);
  return kSucceeded;
}

// Writes `mb` MiB to `path` (SIGXFSZ ignored so RLIMIT_FSIZE shows as EFBIG).
Outcome Fill(const std::string& path, long mb) {
  ::signal(SIGXFSZ, SIG_IGN);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Failed(("open " + path).c_str(), errno);
  std::string chunk(1 << 20, 'y');
  for (long i = 0; i < mb; ++i) {
    size_t off = 0;
    while (off < chunk.size()) {
      ssize_t n = ::write(fd, chunk.data() + off, chunk.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int err = n < 0 ? errno : ENOSPC;
        ::close(fd);
        ::unlink(path.c_str());
        return Failed("write", err);
      }
      off += static_cast<size_t>(n);
    }
  }
  ::close(fd);
  ::unlink(path.c_str());
  return kSucceeded;
}

double CpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Burns `ms` of CPU time. RLIMIT_CPU ends it by SIGXCPU/SIGKILL (DENIED for the driver).
Outcome Spin(long ms) {
  volatile unsigned long sink = 0;
  while (CpuSeconds() * 1000 < static_cast<double>(ms))
    for (int i = 0; i < 100000; ++i) sink = sink + static_cast<unsigned long>(i);
  return kSucceeded;
}

// Starts a setsid, double-forked daemon that holds an exclusive flock on `lock` until it is
// killed, and returns once the lock is held. With "stay", the probe itself then waits forever
// (so the test can close the session around it). The test checks the lock from outside.
Outcome Daemon(const std::string& lock, bool stay) {
  int ready[2];
  if (::pipe(ready) != 0) return Failed("pipe", errno);
  pid_t p = ::fork();
  if (p < 0) return Failed("fork", errno);
  if (p == 0) {
    ::close(ready[0]);
    if (::setsid() < 0) ::_exit(2);
    if (::fork() != 0) ::_exit(0);
    int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(2);
    std::string pid = std::to_string(::getpid()) + "\n";
    (void)!::write(fd, pid.data(), pid.size());
    int null = ::open("/dev/null", O_RDWR);
    for (int i = 0; i < 3; ++i) ::dup2(null, i);
    (void)!::write(ready[1], "r", 1);
    ::close(ready[1]);
    for (;;) ::pause();
  }
  ::close(ready[1]);
  char c = 0;
  ssize_t n = ::read(ready[0], &c, 1);
  ::waitpid(p, nullptr, 0);
  if (n != 1) return Failed("daemon did not start", ECHILD);
  std::printf("ready\n");
  std::fflush(stdout);
  if (stay)
    for (;;) ::pause();
  return kSucceeded;
}

long Num(const Args& a, size_t i) { return i < a.size() ? std::atol(a[i].c_str()) : 0; }
const std::string& Str(const Args& a, size_t i) {
  static const std::string empty;
  return i < a.size() ? a[i] : empty;
}

}  // namespace

Outcome RunFsAction(const std::string& action, const Args& a, bool* known) {
  *known = true;
  if (action == "write") return WriteFile(Str(a, 0));
  if (action == "read") return ReadFile(Str(a, 0), Str(a, 1));
  if (action == "mkdir") return ::mkdir(Str(a, 0).c_str(), 0755) == 0 ? kSucceeded : Failed("mkdir", errno);
  if (action == "symlink-write") {  // TARGET LINK: plant a symlink, then write through it
    if (::symlink(Str(a, 0).c_str(), Str(a, 1).c_str()) != 0 && errno != EEXIST) return Failed("symlink", errno);
    return WriteFile(Str(a, 1));
  }
  if (action == "hardlink-write") {  // SOURCE LINK: hard-link a file, then write through it
    if (::link(Str(a, 0).c_str(), Str(a, 1).c_str()) != 0) return Failed("link", errno);
    int fd = ::open(Str(a, 1).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) return Failed("open link", errno);
    ssize_t n = ::write(fd, "escaped\n", 8);
    int err = errno;
    ::close(fd);
    return n == 8 ? kSucceeded : Failed("write link", err);
  }
  if (action == "exists") {
    struct stat st {};
    return ::stat(Str(a, 0).c_str(), &st) == 0 ? kSucceeded : Failed(("stat " + Str(a, 0)).c_str(), errno);
  }
  if (action == "fds") return OpenFds(a);
  if (action == "env") {
    const char* v = std::getenv(Str(a, 0).c_str());
    return v ? kSucceeded : kDenied;
  }
  // Succeeds if the process holds root's effective uid without being root: a setuid gain.
  if (action == "euid") {
    std::fprintf(stderr, "probe: uid %d euid %d\n", ::getuid(), ::geteuid());
    return ::geteuid() == 0 && ::getuid() != 0 ? kSucceeded : kDenied;
  }
  if (action == "forkbomb") return ForkMany(Num(a, 0));
  if (action == "alloc") return Allocate(Num(a, 0));
  if (action == "fill") return Fill(Str(a, 0), Num(a, 1));
  if (action == "spin") return Spin(Num(a, 0));
  if (action == "sleep") {
    ::usleep(static_cast<useconds_t>(Num(a, 0)) * 1000);
    return kSucceeded;
  }
  if (action == "daemon") return Daemon(Str(a, 0), Str(a, 1) == "stay");
  *known = false;
  return kProbeError;
}

}  // namespace cordon::escape_probe

int main(int argc, char** argv) {
  using namespace cordon::escape_probe;
  if (argc < 2) {
    std::fprintf(stderr, "usage: cordon-escape-probe ACTION [ARGS...]\n");
    return kProbeError;
  }
  std::string action = argv[1];
  Args args(argv + 2, argv + argc);
  bool known = false;
  Outcome out = RunFsAction(action, args, &known);
  if (!known) out = RunKernelAction(action, args, &known);
  if (!known) {
    std::fprintf(stderr, "probe: unknown action %s\n", action.c_str());
    return kProbeError;
  }
  std::fprintf(stderr, "probe: %s -> %s\n", action.c_str(),
               out == kSucceeded ? "SUCCEEDED" : out == kDenied ? "DENIED" : "ERROR");
  return out;
}
