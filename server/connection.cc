#include "server/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/client_roots.h"
#include "server/methods.h"
#include "server/process_service.h"

namespace cordon::server {

Connection::Connection(ServerContext& context, int in_fd, int out_fd)
    : Connection(context, MakeFdChannel(in_fd, out_fd)) {}

Connection::Connection(ServerContext& context, std::unique_ptr<ByteChannel> channel)
    : context_(context), channel_(std::move(channel)), sessions_(context) {
  dispatcher_ = protocol::Dispatcher::Create([this](const protocol::Json& m) { Send(m); });
  protocol::ServerIdentity identity;
  identity.version = CORDON_VERSION;
  identity.instructions =
      "cordon runs commands, reads files and applies patches inside an operating-system sandbox. "
      "Call sandbox_info to see what is enforced (writable paths, network, limits). A non-zero exit "
      "status is a normal result; errors marked isError mean the sandbox refused or the call failed.";
  mcp_ = std::make_unique<protocol::McpServer>(dispatcher_, identity);
  log_ = std::make_unique<ClientLogSubscription>(dispatcher_);
  mcp_->OnLogLevel([this](protocol::LogLevel level) { log_->SetLevel(level); });
  mcp_->OnExit([this](int code) {
    exit_code_.store(code);
    Stop();
  });
  processes_ = std::make_unique<ProcessService>(*this);
  RegisterMethods();
  mcp_->OnClientReady([this](const protocol::Json& client) {
    if (OffersRoots(client)) AskForRoots(true);
  });
  dispatcher_->RegisterNotification("notifications/roots/list_changed", [this](const protocol::Json&) {
    if (OffersRoots(mcp_->client_params())) AskForRoots(false);
  });
}

bool Connection::OffersRoots(const protocol::Json& client_params) const {
  if (context_.workspace_from_cli) return false;  // --workspace wins over the client's roots
  auto caps = client_params.find("capabilities");
  return caps != client_params.end() && caps->is_object() && caps->contains("roots") && (*caps)["roots"].is_object();
}

void Connection::AskForRoots(bool hold_requests) {
  if (sessions_.default_created()) {
    spdlog::info("the client's roots changed; the default session keeps its workspace");
    return;
  }
  // Until the answer comes, requests wait (bounded): one that built the default session now
  // would build it on the fallback directory.
  if (hold_requests) {
    gate_.Close(kRootsWait, [this] {
      spdlog::warn("the client offered roots but did not list them within {} s; requests go ahead on {}",
                   std::chrono::duration_cast<std::chrono::seconds>(kRootsWait).count(), context_.workspace_roots[0]);
    });
  }
  dispatcher_->SendRequest("roots/list", protocol::Json::object(),
                           [this](const protocol::Json& result, const std::optional<protocol::RpcError>& error) {
    if (error) {
      spdlog::warn("roots/list failed ({}); the default workspace stays {}", error->message, context_.workspace_roots[0]);
    } else {
      WorkspaceRoots roots = WorkspaceFromRoots(result);
      for (const auto& why : roots.passed_over) spdlog::warn("client root passed over: {}", why);
      if (roots.directories.empty()) {
        spdlog::warn("the client listed no usable root; the default workspace stays {}", context_.workspace_roots[0]);
      } else if (!sessions_.SetDefaultWorkspace(roots.directories)) {
        spdlog::info("the client's roots came after the default session was built; it keeps its workspace");
      } else {
        spdlog::info("default workspace from the client's roots: {}", fmt::join(roots.directories, ", "));
      }
    }
    gate_.Open();
  });
}

Connection::~Connection() {
  gate_.Shutdown();
  dispatcher_->CancelAll();
  processes_.reset();
  sessions_.CloseAll();
}

void Connection::RegisterMethods() {
  RegisterSandboxMethods(*this, *mcp_);
  processes_->Register(*mcp_);
  RegisterFileMethods(*this, *mcp_);
}

void Connection::Send(const protocol::Json& message) {
  SendSerialized(message.dump(-1, ' ', false, protocol::Json::error_handler_t::replace));
}

void Connection::SendSerialized(std::string_view body) {
  std::string frame = protocol::EncodeFrame(framing_ == protocol::Framing::kUnknown ? protocol::Framing::kNdjson : framing_, body);
  std::lock_guard<std::mutex> lock(write_mu_);
  if (write_failed_.load()) return;
  if (!channel_->WriteAll(frame)) {
    write_failed_.store(true);  // the client is gone; the read side will see EOF
    Stop();
  }
}

void Connection::Stop() { channel_->Interrupt(); }

int Connection::Run() {
  protocol::FrameLimits limits;
  limits.max_message_bytes = context_.config.max_message_bytes;
  limits.max_depth = context_.config.max_depth;
  protocol::FrameDecoder decoder(limits);
  std::string buf(1 << 16, '\0');
  for (;;) {
    long n = channel_->Read(buf.data(), buf.size());
    if (n < 0) break;  // Stop() or a read error
    if (n == 0) {
      decoder.Finish();
    } else {
      decoder.Feed(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
    if (framing_ == protocol::Framing::kUnknown) framing_ = decoder.framing();
    while (auto frame = decoder.Next()) gate_.Submit(std::move(*frame), decoder.framing());
    // At end of input nothing can answer what the gate waits for: serve what is held.
    if (n == 0) gate_.Open();
    if (n == 0 || exit_code_.load() >= 0) break;
  }
  spdlog::debug("connection closing: killing its sessions");
  gate_.Shutdown();
  // From here on a client that does not read can hold up a writer only for a bounded time
  // (stdio.h), so the pumps below always finish.
  channel_->Interrupt();
  dispatcher_->CancelAll();
  processes_->Shutdown();
  sessions_.CloseAll();
  int code = exit_code_.load();
  return code < 0 ? 0 : code;
}

}  // namespace cordon::server
