#include "tests/escape/escape_env.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "sandbox/linux/linux_session.h"

extern char** environ;

namespace cordon::escape {
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

bool CopyFile(const std::string& from, const std::string& to, mode_t mode) {
  std::ifstream in(from, std::ios::binary);
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  if (!in || !out) return false;
  out << in.rdbuf();
  out.close();
  return out.good() && ::chmod(to.c_str(), mode) == 0;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

int RemoveEntry(const char* path, const struct stat*, int, FTW*) { return ::remove(path); }

Verdict FromExitCode(int code) {
  return code == 0 ? Verdict::kSucceeded : code == 1 ? Verdict::kDenied : Verdict::kError;
}

}  // namespace

const char* VerdictName(Verdict v) {
  return v == Verdict::kSucceeded ? "SUCCEEDED" : v == Verdict::kDenied ? "DENIED" : "ERROR";
}

std::string Describe(const RunOutcome& r) {
  std::ostringstream s;
  s << VerdictName(r.verdict) << " (status " << r.result.status;
  if (r.result.exit_code) s << ", code " << *r.result.exit_code;
  if (r.result.signal) s << ", signal " << *r.result.signal;
  if (r.exit_code >= 0) s << ", outside exit " << r.exit_code;
  if (!r.result.detail.empty()) s << ", detail: " << r.result.detail;
  s << ") stderr: " << r.err;
  return s.str();
}

EscapeEnv& EscapeEnv::Get() {
  static EscapeEnv* env = new EscapeEnv();
  return *env;
}

EscapeEnv::EscapeEnv() {
  root_ = ::geteuid() == 0;
  if (!std::getenv("CORDON_WORKER")) ::setenv("CORDON_WORKER", CORDON_ESCAPE_WORKER, 1);
  std::string given = EnvOr("CORDON_ESCAPE_BASE", "");
  if (given.empty()) {
    std::string tmpl = std::string(CORDON_ESCAPE_DEFAULT_BASE) + "/work-XXXXXX";
    if (::mkdtemp(tmpl.data())) base_ = tmpl;
    owns_base_ = true;
  } else {
    base_ = given;
  }
  ::chmod(base_.c_str(), 0755);
  ::mkdir((base_ + "/bin").c_str(), 0755);
  probe_ = base_ + "/bin/cordon-escape-probe";
  if (!CopyFile(EnvOr("CORDON_ESCAPE_PROBE", CORDON_ESCAPE_PROBE_PATH), probe_, 0755)) probe_.clear();
  suid_probe_ = EnvOr("CORDON_ESCAPE_SUID_PROBE", "");
  if (suid_probe_.empty() && root_ && !probe_.empty()) {
    // A setuid-root copy: what a host's su or passwd are, but reporting its euid.
    suid_probe_ = base_ + "/bin/cordon-escape-probe-suid";
    if (!CopyFile(probe_, suid_probe_, 0755) || ::chown(suid_probe_.c_str(), 0, 0) != 0 ||
        ::chmod(suid_probe_.c_str(), 04755) != 0)
      suid_probe_.clear();
  }
  backend_ = MakeSandboxBackend();
  if (owns_base_) {
    // The environment lives for the whole process; remove our directory when it exits.
    static std::string* to_remove = new std::string(base_);
    std::atexit([] { ::nftw(to_remove->c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS); });
  }
}

EscapeEnv::~EscapeEnv() = default;

Dirs MakeDirs(const std::string& name) {
  Dirs d;
  d.root = EscapeEnv::Get().base() + "/" + name;
  ::nftw(d.root.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  d.ws = d.root + "/ws";
  d.out = d.root + "/out";
  d.home = d.root + "/home";
  for (const auto& p : {d.root, d.ws, d.out, d.home, d.home + "/.ssh"}) ::mkdir(p.c_str(), 0755);
  WriteText(d.home + "/.ssh/id_rsa", "SECRET-KEY\n");
  WriteText(d.home + "/.netrc", "machine example.com password SECRET-KEY\n");
  WriteText(d.out + "/target", "outside\n");
  return d;
}

PolicyBuilder BaseBuilder(const Dirs& d) {
  PolicyBuilder b = PolicyBuilder::Defaults(d.home);
  b.WorkspaceRoot(d.ws);
  ResourceLimits l;
  l.memory_bytes = 256ull << 20;
  l.max_processes = 64;
  l.tmp_bytes = 16ull << 20;
  l.max_file_bytes = 64ull << 20;
  b.Limits(l);
  return b;
}

Policy MustBuild(const PolicyBuilder& b) {
  auto p = b.Build();
  if (!p) {
    ADD_FAILURE() << "policy: " << p.error().detail;
    std::abort();
  }
  return std::move(*p);
}

std::shared_ptr<SandboxSession> MustCreate(const Policy& policy) {
  auto s = EscapeEnv::Get().backend().CreateSession(policy);
  if (!s) {
    ADD_FAILURE() << "session: " << s.error().detail;
    return nullptr;
  }
  return *s;
}

RunOutcome RunIn(SandboxSession& session, const std::vector<std::string>& args, const RunOptions& o) {
  RunOutcome r;
  SpawnRequest req;
  req.argv = {EscapeEnv::Get().probe()};
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  req.cwd = session.policy().workspace_roots().front();
  req.env = BuildEnvironment(session.policy().env(), o.server_env ? environ : nullptr, o.env);
  req.tty = o.tty;
  req.timeout_ms = o.timeout_ms;
  auto proc = session.Spawn(req);
  if (!proc) {
    r.err = "spawn: " + proc.error().detail;
    return r;
  }
  for (;;) {
    auto chunk = (*proc)->ReadOutput(65536);
    if (!chunk || chunk->eof) break;
    (chunk->stream == OutputStream::kStderr ? r.err : r.out) += chunk->data;
  }
  r.result = (*proc)->Wait();
  const auto& res = r.result;
  if (res.status == "exited" && res.exit_code) {
    r.verdict = FromExitCode(*res.exit_code);
  } else if (res.status == "oom" || res.status == "timeout" ||
             (res.status == "signaled" && (res.signal == SIGKILL || res.signal == SIGXCPU || res.signal == SIGXFSZ))) {
    r.verdict = Verdict::kDenied;  // the sandbox stopped it
  }
  if (o.tty) r.err += r.out;  // a pty merges the streams
  return r;
}

RunOutcome RunSandboxed(const Policy& policy, const std::vector<std::string>& args, const RunOptions& o) {
  auto s = MustCreate(policy);
  if (!s) return {};
  RunOutcome r = RunIn(*s, args, o);
  s->Close();
  return r;
}

RunOutcome RunOutside(const std::vector<std::string>& args, int keep_fd, bool tty, const std::string& exe) {
  RunOutcome r;
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return r;
  UniqueFd master;
  std::string slave;
  if (tty) {
    master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (!master || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return r;
    slave = ::ptsname(master.get());
  }
  std::string path = exe.empty() ? EscapeEnv::Get().probe() : exe;
  std::vector<std::string> all = {path};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(err_pipe[1], 2);
    if (tty) {
      ::setsid();
      int s = ::open(slave.c_str(), O_RDWR);
      if (s < 0 || ::ioctl(s, TIOCSCTTY, 0) != 0) ::_exit(3);
      ::dup2(s, 0);
    }
    if (keep_fd >= 0) ::dup2(keep_fd, 7);  // dup2 clears close-on-exec
    ::execv(path.c_str(), argv.data());
    ::_exit(2);
  }
  ::close(err_pipe[1]);
  char buf[4096];
  ssize_t n;
  while ((n = ::read(err_pipe[0], buf, sizeof(buf))) > 0) r.err.append(buf, static_cast<size_t>(n));
  ::close(err_pipe[0]);
  int st = 0;
  ::waitpid(pid, &st, 0);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.verdict = WIFEXITED(st) ? FromExitCode(WEXITSTATUS(st)) : Verdict::kError;
  return r;
}

Listener::Listener(Kind kind, const std::string& name) : kind_(kind) {
  int type = kind == kUdp ? SOCK_DGRAM : SOCK_STREAM;
  int family = (kind == kTcp || kind == kUdp) ? AF_INET : AF_UNIX;
  UniqueFd fd(::socket(family, type | SOCK_CLOEXEC, 0));
  if (!fd) return;
  int rc;
  if (family == AF_INET) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  } else {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    size_t off = kind == kUnixAbstract ? 1 : 0;
    std::memcpy(a.sun_path + off, name.data(), name.size());
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + off + name.size() + (off ? 0 : 1));
    if (!off) {
      path_ = name;
      ::unlink(name.c_str());
    }
    rc = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), len);
    if (rc == 0 && !off) ::chmod(name.c_str(), 0777);
  }
  if (rc != 0 || (type == SOCK_STREAM && ::listen(fd.get(), 16) != 0)) return;
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return;
  stop_r_.reset(p[0]);
  stop_w_.reset(p[1]);
  fd_ = std::move(fd);
  thread_ = std::thread([this] { Loop(); });
}

Listener::~Listener() {
  stop_w_.reset();  // wakes the loop
  if (thread_.joinable()) thread_.join();
  if (!path_.empty()) ::unlink(path_.c_str());
}

void Listener::Loop() {
  static const char kGreeting[] = "cordon-listener\n";
  for (;;) {
    pollfd p[2] = {{fd_.get(), POLLIN, 0}, {stop_r_.get(), POLLIN, 0}};
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) return;
    if (kind_ == kUdp) {
      char buf[512];
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      ssize_t n = ::recvfrom(fd_.get(), buf, sizeof(buf), 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n <= 0) continue;
      accepted_++;
      std::string reply;
      if (n >= 12 && std::string(buf, 4) != "ping") {
        reply.assign(buf, static_cast<size_t>(n));  // echo the query as a response
        reply[2] = static_cast<char>(reply[2] | 0x80);
      } else {
        reply = kGreeting;
      }
      ::sendto(fd_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      continue;
    }
    UniqueFd c(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) continue;
    accepted_++;
    (void)!::write(c.get(), kGreeting, sizeof(kGreeting) - 1);
  }
}

Sleeper::Sleeper() {
  pid_ = ::fork();
  if (pid_ == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (;;) ::pause();
  }
}

Sleeper::~Sleeper() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
}

std::string SessionLimitFile(SandboxSession& session) {
  auto* linux_session = dynamic_cast<linux_sandbox::LinuxSession*>(&session);
  if (!linux_session) return "";
  std::ifstream in("/proc/" + std::to_string(linux_session->worker_pid()) + "/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string ctrl = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    if (path == "/" || path.find("cordon-") == std::string::npos) continue;
    std::vector<std::string> candidates;
    if (ctrl == "pids") candidates.push_back("/sys/fs/cgroup/pids" + path + "/pids.max");
    if (ctrl == "memory") candidates.push_back("/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes");
    if (ctrl.empty()) {
      for (const char* mnt : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"})
        for (const char* f : {"/pids.max", "/memory.max"}) candidates.push_back(mnt + path + f);
    }
    for (const auto& c : candidates)
      if (::access(c.c_str(), F_OK) == 0) return c;
  }
  return "";
}

bool LockFreeWithin(const std::string& path, int wait_ms) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  for (;;) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    if (fd && ::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    ::usleep(20000);
  }
}

}  // namespace cordon::escape
