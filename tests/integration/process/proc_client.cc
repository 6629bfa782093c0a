#include "tests/integration/process/proc_client.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sandbox/base64.h"

namespace cordon::proc_test {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// pid, ppid, state and start time from /proc/<pid>/stat (the comm field may hold spaces).
bool ReadStat(pid_t pid, pid_t* ppid, char* state, unsigned long long* start) {
  std::string s = ReadText("/proc/" + std::to_string(pid) + "/stat");
  size_t close = s.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream in(s.substr(close + 2));
  std::string field;
  in >> *state >> *ppid;
  for (int i = 5; i < 22 && in >> field; ++i) {}  // fields 5..21
  in >> *start;                                   // field 22
  return !in.fail();
}

std::vector<pid_t> AllPids() {
  std::vector<pid_t> out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    char* end;
    long v = std::strtol(e->d_name, &end, 10);
    if (*end == '\0' && v > 0) out.push_back(static_cast<pid_t>(v));
  }
  ::closedir(d);
  return out;
}

}  // namespace

std::unique_ptr<ProcClient> ProcClient::Start(const std::string& workspace, const std::vector<std::string>& extra) {
  std::unique_ptr<ProcClient> c(new ProcClient());
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return nullptr;
  UniqueFd in_r(in[0]), out_w(out[1]);
  c->to_server_.reset(in[1]);
  c->from_server_.reset(out[0]);
  std::string xdg = workspace + "/../xdg-empty";
  ::mkdir(xdg.c_str(), 0755);
  c->log_path_ = workspace + "/../serve-" + std::to_string(::getpid()) + "-" + std::to_string(NowMs()) + ".log";
  std::vector<std::string> args = {CORDON_BIN, "serve", "--workspace", workspace, "--log-level", "warning"};
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = ::fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    int log = ::open(c->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) ::dup2(log, 2);
    ::setenv("XDG_CONFIG_HOME", xdg.c_str(), 1);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  c->pid_ = pid;
  return c;
}

ProcClient::~ProcClient() {
  if (!reaped_) Disconnect(30000);
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
}

bool ProcClient::Disconnect(int timeout_ms, bool drain) {
  to_server_.reset();
  if (pid_ <= 0 || reaped_) return reaped_;
  for (int64_t deadline = NowMs() + timeout_ms; NowMs() < deadline;) {
    if (drain) Pump(0);  // keep draining so the server never blocks on a full stdout while exiting
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) {
      reaped_ = true;
      return true;
    }
    ::poll(nullptr, 0, 20);  // an exit we cannot poll for without a pidfd: re-check soon
  }
  return false;
}

size_t ProcClient::Unread() const {
  int n = 0;
  return ::ioctl(from_server_.get(), FIONREAD, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
}

std::string ProcClient::Log() const { return ReadText(log_path_); }

int64_t ProcClient::Send(const std::string& method, const Json& params) {
  int64_t id = next_id_++;
  std::string line = Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() + "\n";
  for (size_t off = 0; off < line.size();) {
    ssize_t n = ::write(to_server_.get(), line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  return id;
}

void ProcClient::Notify(const std::string& method, const Json& params) {
  std::string line = Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump() + "\n";
  (void)!::write(to_server_.get(), line.data(), line.size());
}

bool ProcClient::Pump(int timeout_ms) {
  pollfd p{from_server_.get(), POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(from_server_.get(), buf, sizeof(buf));
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  size_t start = 0;
  for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
    Json msg = Json::parse(buffer_.data() + start, buffer_.data() + nl, nullptr, false);
    if (msg.is_object() && msg.contains("id") && msg["id"].is_number_integer() && !msg.contains("method")) {
      int64_t id = msg["id"].get<int64_t>();  // before the move: json's operator= takes its argument by value
      replies_[id] = std::move(msg);
    } else {
      notifications_.push_back(std::move(msg));
    }
  }
  buffer_.erase(0, start);
  return true;
}

std::optional<Json> ProcClient::Wait(int64_t id, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    auto it = replies_.find(id);
    if (it != replies_.end()) {
      Json out = std::move(it->second);
      replies_.erase(it);
      return out;
    }
    int64_t left = deadline - NowMs();
    if (left <= 0) return std::nullopt;
    if (!Pump(static_cast<int>(left))) {
      pollfd p{from_server_.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) return std::nullopt;
    }
  }
}

Json ProcClient::Call(const std::string& method, const Json& params, int timeout_ms) {
  auto reply = Wait(Send(method, params), timeout_ms);
  if (!reply) return {{"error", {{"code", 0}, {"message", "no reply to " + method}}}};
  return *reply;
}

bool ProcClient::Initialize() {
  Json r = Call("initialize", {{"protocolVersion", "2025-06-18"},
                               {"capabilities", Json::object()},
                               {"clientInfo", {{"name", "process-test"}, {"version", "1"}}}});
  if (!r.contains("result")) return false;
  Notify("notifications/initialized", Json::object());
  return true;
}

std::optional<Json> ProcClient::WaitNotification(const std::function<bool(const Json&)>& match, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  size_t checked = 0;
  for (;;) {
    for (; checked < notifications_.size(); ++checked)
      if (match(notifications_[checked])) return notifications_[checked];
    int64_t left = deadline - NowMs();
    if (left <= 0) return std::nullopt;
    if (!Pump(static_cast<int>(left))) {
      pollfd p{from_server_.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) return std::nullopt;
    }
  }
}

bool ProcClient::WaitClosed(const std::string& process_id, int timeout_ms) {
  return WaitNotification(
             [&](const Json& m) {
               return m.value("method", "") == "process/closed" && m["params"].value("processId", "") == process_id;
             },
             timeout_ms)
      .has_value();
}

std::vector<Json> ProcClient::EventsOf(const std::string& process_id) const {
  std::vector<Json> out;
  for (const auto& m : notifications_) {
    std::string method = m.value("method", "");
    if (method.rfind("process/", 0) == 0 && m.contains("params") && m["params"].value("processId", "") == process_id)
      out.push_back(m);
  }
  return out;
}

std::string ProcClient::OutputOf(const std::string& process_id) const {
  std::string out;
  for (const auto& m : EventsOf(process_id))
    if (m["method"] == "process/output") out += Unbase64(m["params"]["data"].get<std::string>());
  return out;
}

std::vector<ProcEntry> Descendants(pid_t root) {
  std::map<pid_t, std::pair<pid_t, unsigned long long>> table;  // pid -> (ppid, start)
  for (pid_t pid : AllPids()) {
    pid_t ppid;
    char state;
    unsigned long long start;
    if (ReadStat(pid, &ppid, &state, &start) && state != 'Z') table[pid] = {ppid, start};
  }
  std::vector<ProcEntry> out;
  std::set<pid_t> in_tree = {root};
  for (bool grew = true; grew;) {
    grew = false;
    for (auto& [pid, info] : table) {
      if (!in_tree.count(pid) && in_tree.count(info.first)) {
        in_tree.insert(pid);
        out.push_back({pid, info.second});
        grew = true;
      }
    }
  }
  return out;
}

std::vector<ProcEntry> WithMarker(const std::string& marker) {
  std::vector<ProcEntry> out;
  for (pid_t pid : AllPids()) {
    std::string cmd = ReadText("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmd.find(marker) == std::string::npos) continue;
    pid_t ppid;
    char state;
    unsigned long long start;
    if (ReadStat(pid, &ppid, &state, &start) && state != 'Z') out.push_back({pid, start});
  }
  return out;
}

std::vector<ProcEntry> StillAlive(const std::vector<ProcEntry>& entries) {
  std::vector<ProcEntry> out;
  for (const auto& e : entries) {
    pid_t ppid;
    char state;
    unsigned long long start;
    if (ReadStat(e.pid, &ppid, &state, &start) && start == e.start_time && state != 'Z') out.push_back(e);
  }
  return out;
}

std::vector<ProcEntry> AwaitGone(const std::vector<ProcEntry>& entries, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  for (;;) {
    auto alive = StillAlive(entries);
    if (alive.empty() || NowMs() >= deadline) return alive;
    ::poll(nullptr, 0, 25);  // process exit of non-children cannot be awaited portably: re-scan
  }
}

uint64_t RssKb(pid_t pid) {
  std::istringstream in(ReadText("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  return 0;
}

std::string MakeWorkspace(const std::string& name) {
  std::string parent = CORDON_PROC_SCRATCH;
  ::mkdir(parent.c_str(), 0755);
  std::string dir = parent + "/" + name + "-" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

std::string Base64(const std::string& bytes) { return Base64Encode(bytes); }
std::string Unbase64(const std::string& text) { return Base64Decode(text).value_or(""); }

}  // namespace cordon::proc_test
