#include "server/connection.h"

#include <spdlog/spdlog.h>

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
}

Connection::~Connection() {
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
    while (auto frame = decoder.Next()) dispatcher_->HandleFrame(*frame, decoder.framing());
    if (n == 0 || exit_code_.load() >= 0) break;
  }
  spdlog::debug("connection closing: killing its sessions");
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
