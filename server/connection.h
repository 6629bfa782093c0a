// One client connection (stdio or one accepted unix socket): reads frames, dispatches them,
// writes replies and notifications with the connection's framing, and owns the connection's
// sessions. When the client goes away (EOF, `exit`, or Stop()), every process of every session
// of this connection is killed before Run() returns.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "protocol/dispatcher.h"
#include "protocol/framing.h"
#include "protocol/mcp_server.h"
#include "server/logging.h"
#include "server/request_gate.h"
#include "server/server_context.h"
#include "server/session_registry.h"
#include "server/stdio.h"

namespace cordon::server {

class ProcessService;

class Connection {
 public:
  // in_fd/out_fd stay owned by the caller (they may be one socket); see MakeFdChannel.
  Connection(ServerContext& context, int in_fd, int out_fd);
  Connection(ServerContext& context, std::unique_ptr<ByteChannel> channel);
  ~Connection();

  // Serves until EOF, `exit` or Stop(). Returns the process exit code LSP asks for.
  int Run();
  // Thread-safe; makes Run() return soon.
  void Stop();

  protocol::Dispatcher& dispatcher() { return *dispatcher_; }
  SessionRegistry& sessions() { return sessions_; }
  ServerContext& context() { return context_; }
  ProcessService& processes() { return *processes_; }
  // Sends one message that is already JSON text (the process output hot path builds it by
  // hand: base64 needs no escaping, and nlohmann's escaping scan dominated streaming).
  void SendSerialized(std::string_view body);

 private:
  void Send(const protocol::Json& message);
  void RegisterMethods();
  // Asks an MCP client that offers roots for them, to root the default session there.
  void AskForRoots(bool hold_requests);
  bool OffersRoots(const protocol::Json& client_params) const;
  static constexpr std::chrono::milliseconds kRootsWait{5000};

  ServerContext& context_;
  std::unique_ptr<ByteChannel> channel_;
  std::mutex write_mu_;
  std::atomic<bool> write_failed_{false};
  protocol::Framing framing_ = protocol::Framing::kUnknown;
  std::shared_ptr<protocol::Dispatcher> dispatcher_;
  std::unique_ptr<protocol::McpServer> mcp_;
  std::unique_ptr<ClientLogSubscription> log_;
  SessionRegistry sessions_;
  std::unique_ptr<ProcessService> processes_;
  // Declared last: destroyed first, so its timer never dispatches into a dismantled connection.
  RequestGate gate_{[this](const protocol::Frame& f, protocol::Framing framing) { dispatcher_->HandleFrame(f, framing); }};
  std::atomic<int> exit_code_{-1};
};

}  // namespace cordon::server
