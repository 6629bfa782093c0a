// Logging: spdlog to stderr (never stdout, which carries protocol messages) and optionally a
// file; plus a sink that forwards records to clients that asked for them with
// logging/setLevel, as notifications/message.
#pragma once

#include <memory>
#include <string>

#include "protocol/dispatcher.h"
#include "protocol/mcp_server.h"
#include "sandbox/status.h"

namespace cordon::server {

Status InitLogging(const std::string& level, const std::string& file);

// Registers a connection to receive log records at or above its chosen level. The returned
// handle unregisters on destruction.
class ClientLogSubscription {
 public:
  struct Entry;  // shared with the forwarding sink
  explicit ClientLogSubscription(std::weak_ptr<protocol::Dispatcher> dispatcher);
  ~ClientLogSubscription();
  void SetLevel(protocol::LogLevel level);

 private:
  std::shared_ptr<Entry> entry_;
};

}  // namespace cordon::server
