#include "server/client_command.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "protocol/framing.h"
#include "protocol/jsonrpc.h"
#include "protocol/mcp_server.h"
#include "server/client_transport.h"

namespace cordon::server {
namespace {

using protocol::Json;

// What the reader thread has seen; guarded by mu.
struct ClientState {
  std::mutex mu;
  std::condition_variable cv;
  std::map<std::string, Json> replies;  // key: id.dump()
  std::multiset<std::string> notifications;
  bool eof = false;
};

void PrintLine(const Json& message) {
  static std::mutex out_mu;
  std::string line = message.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(out_mu);
  std::fwrite(line.data(), 1, line.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

void ReadLoop(ClientTransport& transport, ClientState& state) {
  protocol::FrameDecoder decoder;
  std::string buf(1 << 16, '\0');
  for (;;) {
    long n = transport.Read(buf.data(), buf.size());
    if (n <= 0) decoder.Finish();
    else decoder.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    while (auto frame = decoder.Next()) {
      Json m = Json::parse(frame->body, nullptr, false);
      if (m.is_discarded()) {
        std::fprintf(stderr, "cordon client: the server sent something that is not JSON\n");
        continue;
      }
      PrintLine(m);
      std::lock_guard<std::mutex> lock(state.mu);
      if (m.is_object() && m.contains("method") && m["method"].is_string())
        state.notifications.insert(m["method"].get<std::string>());
      else if (m.is_object() && m.contains("id"))
        state.replies[m["id"].dump()] = m;
      state.cv.notify_all();
    }
    if (n <= 0) break;
  }
  std::lock_guard<std::mutex> lock(state.mu);
  state.eof = true;
  state.cv.notify_all();
}

class Client {
 public:
  Client(ClientTransport& transport, const ClientOptions& options) : transport_(transport), options_(options) {}

  // Sends one message; for a request waits for its reply. Returns an exit code (0 to go on).
  int Exchange(Json message) {
    bool is_request = false;
    if (message.is_object()) {
      if (!message.contains("jsonrpc")) message["jsonrpc"] = "2.0";
      std::string method = message.value("method", "");
      bool notification = method.rfind("notifications/", 0) == 0 || method.rfind("$/", 0) == 0 || method == "exit";
      if (!message.contains("id") && !notification) message["id"] = next_id_++;
      is_request = message.contains("id") && message.contains("method");
    }
    if (!transport_.Write(protocol::EncodeFrame(protocol::Framing::kNdjson, message.dump()))) {
      std::fprintf(stderr, "cordon client: the server is gone\n");
      return 3;
    }
    if (!is_request) return 0;
    std::string key = message["id"].dump();
    std::unique_lock<std::mutex> lock(state_.mu);
    bool done = state_.cv.wait_for(lock, std::chrono::seconds(options_.timeout_s),
                                   [&] { return state_.replies.count(key) || state_.eof; });
    if (!state_.replies.count(key)) {
      std::fprintf(stderr, "cordon client: no reply to request %s (%s)\n", key.c_str(),
                   done ? "the server closed the connection" : "timed out");
      return 3;
    }
    return state_.replies[key].contains("error") && !options_.keep_going ? 1 : 0;
  }

  int WaitUntil() {
    for (const auto& method : options_.until) {
      std::unique_lock<std::mutex> lock(state_.mu);
      bool seen = state_.cv.wait_for(lock, std::chrono::seconds(options_.timeout_s),
                                     [&] { return state_.notifications.count(method) || state_.eof; });
      if (!state_.notifications.count(method)) {
        std::fprintf(stderr, "cordon client: no %s notification (%s)\n", method.c_str(),
                     seen ? "the server closed the connection" : "timed out");
        return 3;
      }
    }
    return 0;
  }

  ClientState& state() { return state_; }

 private:
  ClientTransport& transport_;
  const ClientOptions& options_;
  ClientState state_;
  int next_id_ = 1;
};

int Drive(Client& client, const ClientOptions& options, std::istream& in) {
  if (!options.no_initialize) {
    Json init = {{"method", "initialize"},
                 {"params",
                  {{"protocolVersion", protocol::SupportedProtocolVersions().front()},
                   {"capabilities", Json::object()},
                   {"clientInfo", {{"name", "cordon-client"}, {"version", CORDON_VERSION}}}}}};
    if (int rc = client.Exchange(init)) return rc;
    if (int rc = client.Exchange(Json{{"method", "notifications/initialized"}})) return rc;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;  // blank lines and comments
    Json message = Json::parse(line, nullptr, false);
    if (message.is_discarded() || !(message.is_object() || message.is_array())) {
      std::fprintf(stderr, "cordon client: input line %d is not a JSON object\n", number);
      return 2;
    }
    if (int rc = client.Exchange(std::move(message))) return rc;
  }
  return client.WaitUntil();
}

}  // namespace

int RunClient(const ClientOptions& options) {
  Result<std::unique_ptr<ClientTransport>> transport = MakeError(ErrorKind::kInternal, "no transport");
  if (!options.connect.empty()) {
    transport = ConnectServer(options.connect);
  } else if (!options.server.empty()) {
    transport = StartServerCommand(options.server);
  } else {
    std::vector<std::string> argv = {SelfExecutablePath(), "serve"};
    if (!options.workspace.empty()) argv.insert(argv.end(), {"--workspace", options.workspace});
    transport = StartServerProcess(argv);
  }
  if (!transport) {
    std::fprintf(stderr, "cordon client: %s\n", transport.error().detail.c_str());
    return 2;
  }
  std::ifstream file;
  if (options.input != "-") {
    file.open(options.input);
    if (!file) {
      std::fprintf(stderr, "cordon client: cannot read %s\n", options.input.c_str());
      return 2;
    }
  }
  Client client(**transport, options);
  std::thread reader([&] { ReadLoop(**transport, client.state()); });
  int rc = Drive(client, options, options.input == "-" ? std::cin : file);
  // Closing our side ends the server (EOF), which ends the reader.
  (*transport)->CloseWrite();
  int server_rc = (*transport)->Finish(30000);
  reader.join();
  if (rc == 0 && server_rc != 0 && options.connect.empty()) {
    std::fprintf(stderr, "cordon client: the server exited with status %d\n", server_rc);
    return 3;
  }
  return rc;
}

ClientCommand::ClientCommand(CLI::App& app) {
  sub_ = app.add_subcommand("client",
                            "Send JSON-RPC requests (JSON lines from a file or stdin) to a cordon server and print "
                            "every reply and notification as a JSON line");
  sub_->add_option("input", options_.input, "File of JSON lines (default: stdin)");
  sub_->add_option("--server", options_.server, "Shell command that starts a server (default: this binary's serve)");
  sub_->add_option("--connect", options_.connect, "unix:PATH of a running `cordon serve --listen`");
  sub_->add_option("--workspace", options_.workspace, "Workspace for the server this client starts");
  sub_->add_option("--until", options_.until, "Wait for this notification (e.g. process/closed) before exiting; repeatable")
      ->allow_extra_args(false);
  sub_->add_flag("--no-initialize", options_.no_initialize, "Do not send initialize first");
  sub_->add_flag("--keep-going", options_.keep_going, "Go on after a JSON-RPC error reply and do not let it fail the exit code");
  sub_->add_option("--timeout", options_.timeout_s, "Seconds to wait for each reply or notification")
      ->check(CLI::PositiveNumber);
}

std::optional<int> ClientCommand::Run() const {
  if (!sub_->parsed()) return std::nullopt;
  if (!options_.server.empty() && !options_.connect.empty()) {
    std::fprintf(stderr, "cordon client: --server and --connect exclude each other\n");
    return 2;
  }
  return RunClient(options_);
}

}  // namespace cordon::server
