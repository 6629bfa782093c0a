#include "tests/integration/files/serve_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cordon::files_test {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string ScratchParent() {
  const char* env = std::getenv("CORDON_FILES_SCRATCH");
  std::string dir = env && *env ? env : CORDON_FILES_SCRATCH;
  ::mkdir(dir.c_str(), 0755);
  return dir;
}

std::unique_ptr<ServeClient> ServeClient::Start(const std::string& workspace, const std::vector<std::string>& extra) {
  std::unique_ptr<ServeClient> c(new ServeClient());
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

ServeClient::~ServeClient() {
  to_server_.reset();  // EOF: the server kills its sessions and exits
  if (pid_ <= 0) return;
  for (int64_t deadline = NowMs() + 30000; NowMs() < deadline;) {
    int st;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) return;
    ::poll(nullptr, 0, 20);  // waiting for an exit we cannot poll for (no pidfd needed here)
  }
  ::kill(pid_, SIGKILL);
  int st;
  ::waitpid(pid_, &st, 0);
}

std::string ServeClient::Log() const {
  std::ifstream in(log_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t ServeClient::Send(const std::string& method, const Json& params) {
  int64_t id = next_id_++;
  Json msg = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}};
  std::string line = msg.dump() + "\n";
  for (size_t off = 0; off < line.size();) {
    ssize_t n = ::write(to_server_.get(), line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  return id;
}

void ServeClient::Notify(const std::string& method, const Json& params) {
  std::string line = Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump() + "\n";
  (void)!::write(to_server_.get(), line.data(), line.size());
}

bool ServeClient::ReadSome(int timeout_ms) {
  pollfd p{from_server_.get(), POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r <= 0) return false;
  char buf[65536];
  ssize_t n = ::read(from_server_.get(), buf, sizeof(buf));
  if (n <= 0) return false;
  buffer_.append(buf, static_cast<size_t>(n));
  for (size_t nl; (nl = buffer_.find('\n')) != std::string::npos;) {
    Json msg = Json::parse(buffer_.substr(0, nl), nullptr, false);
    buffer_.erase(0, nl + 1);
    if (msg.is_object() && msg.contains("id") && msg["id"].is_number_integer() && !msg.contains("method")) {
      int64_t id = msg["id"].get<int64_t>();  // before the move below (C++17 sequences `=` right first)
      replies_[id] = std::move(msg);
    } else {
      notifications_.push_back(std::move(msg));
    }
  }
  return true;
}

std::optional<Json> ServeClient::Wait(int64_t id, int timeout_ms) {
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
    if (!ReadSome(static_cast<int>(left)) && NowMs() < deadline) {
      pollfd p{from_server_.get(), POLLIN, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR)) && !(p.revents & POLLIN)) return std::nullopt;
    }
  }
}

Json ServeClient::Call(const std::string& method, const Json& params, int timeout_ms) {
  auto reply = Wait(Send(method, params), timeout_ms);
  if (!reply) return {{"error", {{"code", 0}, {"message", "no reply to " + method}}}};
  return *reply;
}

bool ServeClient::Initialize() {
  Json r = Call("initialize", {{"protocolVersion", "2025-06-18"},
                               {"capabilities", Json::object()},
                               {"clientInfo", {{"name", "files-test"}, {"version", "1"}}}});
  if (!r.contains("result")) return false;
  Notify("notifications/initialized", Json::object());
  return true;
}

Json ServeClient::Tool(const std::string& name, const Json& arguments) {
  Json r = Call("tools/call", {{"name", name}, {"arguments", arguments}});
  if (r.contains("result")) return r["result"];
  return r;
}

}  // namespace cordon::files_test
