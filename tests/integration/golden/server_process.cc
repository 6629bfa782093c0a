#include "server_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace cordon::golden {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Cmdline(pid_t pid) {
  std::string raw = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  while (!raw.empty() && raw.back() == '\0') raw.pop_back();
  for (char& c : raw)
    if (c == '\0') c = ' ';
  return raw;
}

// Returns {ppid, state} from /proc/PID/stat, or {-1, 0} when the process is gone.
std::pair<pid_t, char> StatOf(pid_t pid) {
  std::string stat = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return {-1, 0};
  char state = stat[close + 2];
  return {static_cast<pid_t>(std::atoi(stat.c_str() + close + 4)), state};
}

}  // namespace

ServerProcess::ServerProcess(const std::string& binary, const std::string& workspace, const std::string& config_home,
                             const std::vector<std::string>& args, const std::string& stderr_path,
                             protocol::Framing framing)
    : framing_(framing) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) return;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    return;
  }
  std::vector<std::string> argv = {binary, "serve", "--workspace", workspace, "--log-level", "info"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // The environment is built before fork: the child only dup2s and execs.
  std::vector<std::string> env = {"XDG_CONFIG_HOME=" + config_home};
  for (char** e = environ; *e; ++e)
    if (std::string_view(*e).rfind("XDG_CONFIG_HOME=", 0) != 0) env.emplace_back(*e);
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (err >= 0) ::dup2(err, 2);
    ::execve(binary.c_str(), cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  in_fd_ = in[1];
  out_fd_ = out[0];
  reader_ = std::thread([this] { ReadLoop(); });
}

ServerProcess::~ServerProcess() {
  CloseStdin();
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
  if (reader_.joinable()) reader_.join();
  if (out_fd_ >= 0) ::close(out_fd_);
}

bool ServerProcess::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(in_fd_, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void ServerProcess::CloseStdin() {
  if (in_fd_ >= 0) ::close(in_fd_);
  in_fd_ = -1;
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

void ServerProcess::ReadLoop() {
  protocol::FrameLimits limits;
  limits.max_depth = protocol::kMaxAcceptedDepth;
  protocol::FrameDecoder decoder(limits);
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(out_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      decoder.Finish();
    } else {
      decoder.Feed(std::string_view(buf, static_cast<size_t>(n)));
    }
    std::vector<Json> got;
    while (auto f = decoder.Next()) {
      Json j = Json::parse(f->body, nullptr, false);
      // Anything on stdout that is not a protocol message is itself a failure: keep it visible.
      got.push_back(j.is_discarded() ? Json{{"<unparsable stdout>", f->body}} : j);
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& j : got) messages_.push_back(std::move(j));
    if (n <= 0) eof_ = true;
    cv_.notify_all();
    if (n <= 0) return;
  }
}

std::vector<Json> ServerProcess::WaitForMessages(size_t n, std::chrono::seconds limit) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, limit, [&] { return messages_.size() >= n || eof_; });
  return messages_;
}

std::optional<int> ServerProcess::WaitExit(std::chrono::seconds limit) {
  if (status_) return status_;
  auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      status_ = st;
      return status_;
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    ::usleep(20 * 1000);  // polling a child's exit; no ordering depends on this interval
  }
}

std::vector<Json> ServerProcess::DrainAfterExit() {
  if (reader_.joinable()) reader_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return messages_;
}

std::vector<pid_t> FindDescendants(pid_t root, const std::string& cmdline) {
  std::map<pid_t, pid_t> parent;
  if (DIR* d = ::opendir("/proc")) {
    while (dirent* e = ::readdir(d)) {
      pid_t pid = std::atoi(e->d_name);
      if (pid <= 0) continue;
      auto [ppid, state] = StatOf(pid);
      if (ppid >= 0 && state != 'Z') parent[pid] = ppid;
    }
    ::closedir(d);
  }
  std::vector<pid_t> out;
  for (auto [pid, ppid] : parent) {
    pid_t p = ppid;
    for (int hops = 0; hops < 64 && p > 1 && p != root; ++hops) {
      auto it = parent.find(p);
      p = it == parent.end() ? -1 : it->second;
    }
    if (p == root && Cmdline(pid) == cmdline) out.push_back(pid);
  }
  return out;
}

bool ProcessGone(pid_t pid, const std::string& cmdline) {
  auto [ppid, state] = StatOf(pid);
  if (ppid < 0 || state == 'Z' || state == 'X') return true;
  return Cmdline(pid) != cmdline;
}

}  // namespace cordon::golden
