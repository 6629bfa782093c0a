#include "tests/integration/common/serve_client.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

#include "sandbox/base64.h"

namespace cordon::test_client {
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

}  // namespace

std::unique_ptr<ServeClient> ServeClient::Start(const std::string& workspace, const std::vector<std::string>& extra) {
  return Launch(workspace, true, extra);
}

std::unique_ptr<ServeClient> ServeClient::StartIn(const std::string& cwd, const std::vector<std::string>& extra) {
  return Launch(cwd, false, extra);
}

std::unique_ptr<ServeClient> ServeClient::Launch(const std::string& workspace, bool as_workspace,
                                                 const std::vector<std::string>& extra) {
  std::unique_ptr<ServeClient> c(new ServeClient());
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) return nullptr;
  UniqueFd in_r(in[0]), out_w(out[1]);
  c->to_server_.reset(in[1]);
  c->from_server_.reset(out[0]);
  std::string xdg = workspace + "/../xdg-empty";
  ::mkdir(xdg.c_str(), 0755);
  c->log_path_ = workspace + "/../serve-" + std::to_string(::getpid()) + "-" + std::to_string(NowMs()) + ".log";
  std::vector<std::string> args = {CORDON_BIN, "serve", "--log-level", "warning"};
  if (as_workspace) args.insert(args.begin() + 2, {"--workspace", workspace});
  args.insert(args.end(), extra.begin(), extra.end());
  pid_t pid = ::fork();
  if (pid < 0) return nullptr;
  if (pid == 0) {
    ::dup2(in_r.get(), 0);
    ::dup2(out_w.get(), 1);
    int log = ::open(c->log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) ::dup2(log, 2);
    ::setenv("XDG_CONFIG_HOME", xdg.c_str(), 1);
    if (!as_workspace && ::chdir(workspace.c_str()) != 0) ::_exit(126);
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
  if (!reaped_) Disconnect(30000);
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }
}

bool ServeClient::Disconnect(int timeout_ms, bool drain) {
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

size_t ServeClient::Unread() const {
  int n = 0;
  return ::ioctl(from_server_.get(), FIONREAD, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
}

std::string ServeClient::Log() const { return ReadText(log_path_); }

int64_t ServeClient::Send(const std::string& method, const Json& params) {
  int64_t id = next_id_++;
  WriteLine(Json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", params}}.dump() + "\n");
  return id;
}

void ServeClient::Notify(const std::string& method, const Json& params) {
  WriteLine(Json{{"jsonrpc", "2.0"}, {"method", method}, {"params", params}}.dump() + "\n");
}

void ServeClient::Respond(const Json& id, const Json& result) {
  WriteLine(Json{{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}.dump() + "\n");
}

void ServeClient::WriteLine(const std::string& line) {
  for (size_t off = 0; off < line.size();) {
    ssize_t n = ::write(to_server_.get(), line.data() + off, line.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

bool ServeClient::Pump(int timeout_ms) {
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
    if (!Pump(static_cast<int>(left))) {
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

bool ServeClient::Initialize(const Json& capabilities) {
  Json r = Call("initialize", {{"protocolVersion", "2025-06-18"},
                               {"capabilities", capabilities},
                               {"clientInfo", {{"name", "integration-test"}, {"version", "1"}}}});
  if (!r.contains("result")) return false;
  Notify("notifications/initialized", Json::object());
  return true;
}

std::optional<Json> ServeClient::WaitNotification(const std::function<bool(const Json&)>& match, int timeout_ms) {
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

bool ServeClient::WaitClosed(const std::string& process_id, int timeout_ms) {
  return WaitNotification(
             [&](const Json& m) {
               return m.value("method", "") == "process/closed" && m["params"].value("processId", "") == process_id;
             },
             timeout_ms)
      .has_value();
}

std::vector<Json> ServeClient::EventsOf(const std::string& process_id) const {
  std::vector<Json> out;
  for (const auto& m : notifications_) {
    std::string method = m.value("method", "");
    if (method.rfind("process/", 0) == 0 && m.contains("params") && m["params"].value("processId", "") == process_id)
      out.push_back(m);
  }
  return out;
}

std::string ServeClient::OutputOf(const std::string& process_id) const {
  std::string out;
  for (const auto& m : EventsOf(process_id))
    if (m["method"] == "process/output") out += Unbase64(m["params"]["data"].get<std::string>());
  return out;
}

Json ServeClient::Tool(const std::string& name, const Json& arguments) {
  Json r = Call("tools/call", {{"name", name}, {"arguments", arguments}});
  if (r.contains("result")) return r["result"];
  return r;
}

std::string Base64(const std::string& bytes) { return Base64Encode(bytes); }
std::string Unbase64(const std::string& text) { return Base64Decode(text).value_or(""); }

}  // namespace cordon::test_client
